"""The weekly review: where the assistant stumbled and where handoffs broke (docs/review.md)."""
