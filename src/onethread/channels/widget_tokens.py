"""Signed visitor tokens for the web chat widget, and the check of a site's ``user_hash``.

A token is ``v1.<payload>.<signature>``: the payload is base64url JSON binding the
workspace, the inbox and the visitor's identity (``visitor:<hex>`` or ``user:<id>``)
with the time it was issued; the signature is HMAC-SHA256 under a key derived from
the server's secret key, so a token cannot be forged, moved to another inbox or
kept past its lifetime. The browser keeps it; the server stores nothing per visitor
until the visitor first writes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from onethread.errors import NotAuthenticated

TOKEN_VERSION = "v1"
TOKEN_LIFETIME_SECONDS = 365 * 24 * 3600
CLOCK_SKEW_SECONDS = 300
MAX_TOKEN_LENGTH = 4096
_KEY_PURPOSE = b"onethread widget token"


class InvalidVisitorToken(NotAuthenticated):
    code = "invalid_visitor_token"


@dataclass(frozen=True)
class VisitorClaims:
    """Who the bearer is. ``verified`` holds for an email/phone the site signed."""

    workspace_id: int
    inbox_id: int
    identity: str
    issued_at: int
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    verified: bool = False

    @property
    def identified(self) -> bool:
        return self.identity.startswith("user:")


def _token_key(secret_key: str) -> bytes:
    # A key of its own: a widget token can never pass for anything else the secret signs.
    return hmac.new(secret_key.encode(), _KEY_PURPOSE, hashlib.sha256).digest()


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret_key: str, payload: str) -> str:
    digest = hmac.new(_token_key(secret_key), payload.encode("ascii"), hashlib.sha256).digest()
    return _b64encode(digest)


def issue_token(secret_key: str, claims: VisitorClaims) -> str:
    body = {name: value for name, value in asdict(claims).items() if value not in (None, False)}
    payload = _b64encode(json.dumps(body, separators=(",", ":")).encode())
    return f"{TOKEN_VERSION}.{payload}.{_signature(secret_key, payload)}"


def _claims(raw: dict[str, Any]) -> VisitorClaims:
    try:
        claims = VisitorClaims(**raw)
    except TypeError as exc:
        raise InvalidVisitorToken("the visitor token is malformed") from exc
    numbers_ok = all(
        isinstance(value, int) and not isinstance(value, bool)
        for value in (claims.workspace_id, claims.inbox_id, claims.issued_at)
    )
    texts_ok = isinstance(claims.identity, str) and all(
        value is None or isinstance(value, str)
        for value in (claims.name, claims.email, claims.phone)
    )
    if not (numbers_ok and texts_ok and isinstance(claims.verified, bool)):
        raise InvalidVisitorToken("the visitor token is malformed")
    return claims


def read_token(
    secret_key: str, token: str, *, inbox_id: int, now: float | None = None
) -> VisitorClaims:
    """The claims of a token signed by us for this inbox and still valid, else 401."""
    parts = token.split(".") if len(token) <= MAX_TOKEN_LENGTH else []
    if len(parts) != 3 or parts[0] != TOKEN_VERSION:
        raise InvalidVisitorToken("the visitor token is malformed")
    _version, payload, signature = parts
    if not hmac.compare_digest(signature.encode(), _signature(secret_key, payload).encode()):
        raise InvalidVisitorToken("the visitor token's signature is wrong")
    try:
        raw = json.loads(_b64decode(payload))
    except (ValueError, binascii.Error) as exc:
        raise InvalidVisitorToken("the visitor token is malformed") from exc
    if not isinstance(raw, dict):
        raise InvalidVisitorToken("the visitor token is malformed")
    claims = _claims(raw)
    if claims.inbox_id != inbox_id:
        raise InvalidVisitorToken("the visitor token belongs to another inbox")
    current = time.time() if now is None else now
    if claims.issued_at > current + CLOCK_SKEW_SECONDS:
        raise InvalidVisitorToken("the visitor token was issued in the future")
    if current - claims.issued_at > TOKEN_LIFETIME_SECONDS:
        raise InvalidVisitorToken("the visitor token has expired; start a new session")
    return claims


def signed_identity(user_id: str, email: str | None = None, phone: str | None = None) -> str:
    """What ``user_hash`` signs: the user id, or the id with the email and phone vouched for."""
    if not email and not phone:
        return user_id
    return "\n".join((user_id, email or "", phone or ""))


def user_hash(
    identity_secret: str, user_id: str, email: str | None = None, phone: str | None = None
) -> str:
    """Hex HMAC-SHA256 of ``signed_identity(...)`` under the inbox's identity secret."""
    message = signed_identity(user_id, email, phone).encode()
    return hmac.new(identity_secret.encode(), message, hashlib.sha256).hexdigest()


def verify_user_hash(
    identity_secret: str,
    user_id: str,
    presented: str,
    *,
    email: str | None = None,
    phone: str | None = None,
) -> bool:
    """Whether the site computed ``presented`` with this secret, compared in constant time."""
    expected = user_hash(identity_secret, user_id, email, phone)
    return hmac.compare_digest(expected.encode(), presented.strip().lower().encode())
