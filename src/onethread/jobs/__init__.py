"""Workers: claim durable jobs and run their handlers."""
