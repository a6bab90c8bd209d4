"""Operations: Prometheus metrics, structured logs, request ids carried into jobs."""
