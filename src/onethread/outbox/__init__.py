"""The durable job queue (transactional outbox): enqueue in the writer's transaction."""
