"""Typed domain events: appended in the writer's transaction, published after commit."""
