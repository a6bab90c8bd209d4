"""``X-Onethread-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`` (Stripe-like)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-Onethread-Signature"
EVENT_HEADER = "X-Onethread-Event"
DELIVERY_HEADER = "X-Onethread-Delivery"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, body: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def sign_now(secret: str, body: str) -> str:
    return signature(secret, body, int(time.time()))
