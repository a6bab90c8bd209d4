"""What WhatsApp Cloud API, Instagram and Messenger share: signatures, the handshake, errors.

REFERENCE.md §1: ``X-Hub-Signature-256: sha256=<hex>`` is an HMAC-SHA256 of the exact
received bytes with the app secret (Meta escapes non-ASCII as ``\\uXXXX``: never
re-serialise before checking). The GET handshake echoes ``hub.challenge`` only for the
right ``hub.verify_token``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from onethread.channels.base import PayloadInvalid, SendFailed, SignatureInvalid, WebhookRequest
from onethread.errors import Forbidden
from onethread.inboxes.channel_config import MetaConfig

SIGNATURE_HEADER = "x-hub-signature-256"

# Meta answers these with HTTP 400 although waiting fixes them: throttling codes.
RETRYABLE_CODES = {"4", "17", "32", "613", "80007", "130429", "131056", "131000"}


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for ``body`` (tests and benchmarks use it too)."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(config: MetaConfig, request: WebhookRequest) -> None:
    if config.app_secret is None:
        raise SignatureInvalid("this inbox has no app secret configured; set app_secret")
    received = request.header(SIGNATURE_HEADER)
    if not received:
        raise SignatureInvalid("missing X-Hub-Signature-256 header")
    expected = sign(request.body, config.app_secret.get_secret_value())
    if not hmac.compare_digest(received.strip().lower(), expected):
        raise SignatureInvalid("X-Hub-Signature-256 does not match the body")


def answer_handshake(config: MetaConfig, request: WebhookRequest) -> str:
    """The challenge to echo; 403 for a wrong or missing token, 400 for a malformed request."""
    mode = request.query.get("hub.mode")
    token = request.query.get("hub.verify_token")
    challenge = request.query.get("hub.challenge")
    if mode != "subscribe" or challenge is None:
        raise PayloadInvalid("expected hub.mode=subscribe with a hub.challenge")
    if config.verify_token is None:
        raise Forbidden("this inbox has no verify token configured; set verify_token")
    if token is None or not hmac.compare_digest(
        token.encode(), config.verify_token.get_secret_value().encode()
    ):
        raise Forbidden("hub.verify_token does not match this inbox")
    return challenge


def load_json(request: WebhookRequest) -> dict[str, Any]:
    try:
        payload = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadInvalid(f"the body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise PayloadInvalid("the body must be a JSON object")
    return payload


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else empty: an optional part of the wrong shape
    reads as absent rather than failing deep inside a parser."""
    return value if isinstance(value, dict) else {}


def as_text(value: Any) -> str | None:
    """A scalar as text (ids may come as numbers); an object or a list is not text."""
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def as_list(value: Any, where: str) -> list[Any]:
    """``value`` as a list (absent: empty); any other shape is an unreadable payload."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadInvalid(f"{where} must be a list")
    return value


def bearer(config: MetaConfig) -> dict[str, str]:
    if config.access_token is None:
        raise SendFailed(
            "this inbox has no access token configured",
            code="no_access_token",
            transient=False,
            http_status=None,
        )
    return {"Authorization": f"Bearer {config.access_token.get_secret_value()}"}


def graph_url(config: MetaConfig, path: str) -> str:
    return str(config.api_base_url).rstrip("/") + "/" + path.lstrip("/")


def graph_error(response: httpx.Response) -> SendFailed:
    """Meta's error body (``{"error": {"code", "message", "error_data": {"details"}}}``)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = as_dict(as_dict(body).get("error"))
    code = str(error.get("code")) if error.get("code") is not None else None
    details = as_dict(error.get("error_data")).get("details")
    message = error.get("message") or f"HTTP {response.status_code}"
    reason = f"{message}: {details}" if details else message
    transient = response.status_code == 429 or response.status_code >= 500
    return SendFailed(
        reason,
        code=code or f"http_{response.status_code}",
        transient=transient or code in RETRYABLE_CODES,
        http_status=response.status_code,
    )
