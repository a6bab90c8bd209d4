"""The playbook: per-workspace topics, actions, escalation rules and assistant settings."""
