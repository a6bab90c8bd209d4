"""The inboxes domain."""
