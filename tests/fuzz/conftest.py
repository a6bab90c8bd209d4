"""The channel tests' fake Graph API, for the webhook fuzzers."""

from tests.channels.conftest import graph

__all__ = ["graph"]
