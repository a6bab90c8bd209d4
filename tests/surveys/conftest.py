"""Survey tests use the channel tests' fake Graph API and job worker fixtures."""

from tests.channels.conftest import graph, job_context

__all__ = ["graph", "job_context"]
