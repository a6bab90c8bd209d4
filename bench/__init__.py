"""Benchmarks that print figures; never collected as tests. Run one as ``python -m bench.<name>``.

``harness`` holds what every benchmark needs (scratch databases, the app served on
loopback, latency summaries, peak memory, the table printer); ``seed`` builds a
realistic workspace quickly. docs/benchmarks.md records each benchmark's command and
its figures.
"""
