"""Channels: adapters translate; ingest and delivery bridge to the domain."""
