"""The durability tests' fixtures: a fresh PostgreSQL database, the counting Graph API."""

from tests.durability.conftest import graph, postgres_url

__all__ = ["graph", "postgres_url"]
