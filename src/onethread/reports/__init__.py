"""Reports: the event log folded into a projection, and metrics read from it (docs/metrics.md)."""
