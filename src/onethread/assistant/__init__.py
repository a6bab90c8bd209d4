"""The assistant: understands a conversation and decides on a reply, a handoff or silence."""
