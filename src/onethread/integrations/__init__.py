"""Outbound webhooks: subscriptions, the delivery log, signing and sending."""
