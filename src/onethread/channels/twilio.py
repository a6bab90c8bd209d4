"""What Twilio SMS, WhatsApp and Voice share: the signature, the REST API, error texts.

REFERENCE.md §5.1: ``X-Twilio-Signature`` is base64(HMAC-SHA1(auth token, URL + each
form field name, sorted, followed by each of its values, de-duplicated and sorted)).
Twilio is inconsistent about default ports, so the URL is also tried with ``:443``/``:80``
added or any port removed. A JSON body instead puts ``bodySHA256`` in the query: then
only the URL is signed and the body must match that hash.

§5.3: messages are sent by ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``
(form-encoded, basic auth), and their fate comes back in status callbacks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx

from onethread.channels.base import (
    DeliveryReceipt,
    Ignored,
    PayloadInvalid,
    SendFailed,
    SignatureInvalid,
    StatusUpdate,
    WebhookRequest,
    expect_config,
)
from onethread.channels.sending import call_provider
from onethread.conversations.models import DeliveryStatus
from onethread.inboxes.channel_config import ChannelConfig, TwilioConfig

SIGNATURE_HEADER = "x-twilio-signature"
SIGNATURE_SETTINGS_HEADER = "x-twilio-webhooks-signature-settings"
API_VERSION = "2010-04-01"
TWIML_MEDIA_TYPE = "text/xml"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'

_DEFAULT_PORTS = {"https": "443", "http": "80"}
# host (a bracketed IPv6 literal or a name) and an optional port, after any "user:pass@"
_HOST_PORT = re.compile(r"^(?P<host>\[[^\]]*\]|[^:]*)(?::(?P<port>\d*))?$")


# --- signature (§5.1) -------------------------------------------------------------------


def compute_signature(url: str, params: Mapping[str, Sequence[str]], auth_token: str) -> str:
    """The ``X-Twilio-Signature`` Twilio sends for a request to ``url`` with ``params``."""
    signed = url + "".join(
        name + value for name in sorted(params) for value in sorted(set(params[name]))
    )
    digest = hmac.new(auth_token.encode("utf-8"), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_variants(url: str) -> list[str]:
    """``url`` as given, then with the scheme's default port added or its port removed."""
    scheme, separator, rest = url.partition("://")
    default_port = _DEFAULT_PORTS.get(scheme.lower())
    if not separator or default_port is None:
        return [url]
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, at, host_port = authority.rpartition("@")
    match = _HOST_PORT.match(host_port)
    if match is None:
        return [url]
    host, port = match["host"], match["port"]
    prefix = f"{scheme}://{userinfo}{at}{host}"
    other = prefix + tail if port is not None else f"{prefix}:{default_port}{tail}"
    return [url] if other == url else [url, other]


def verify_signature(config: TwilioConfig, request: WebhookRequest) -> None:
    """Raise ``SignatureInvalid`` unless Twilio signed ``request`` with this inbox's token."""
    if config.auth_token is None:
        raise SignatureInvalid("this inbox has no Twilio auth token configured; set auth_token")
    received = request.header(SIGNATURE_HEADER)
    if not received:
        raise SignatureInvalid("missing X-Twilio-Signature header")
    token = config.auth_token.get_secret_value()
    body_hash = request.query.get("bodySHA256")
    params: Mapping[str, Sequence[str]] = {}
    if body_hash is not None:
        expected_hash = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(body_hash.lower().encode(), expected_hash.encode()):
            raise SignatureInvalid("the body does not match the bodySHA256 Twilio signed")
    elif request.method.upper() == "POST":
        try:
            params = request.form()
        except PayloadInvalid as exc:  # Twilio's forms are UTF-8: this one is not Twilio's
            raise SignatureInvalid(f"unsigned body: {exc.message}") from exc
    for url in url_variants(request.url):
        expected = compute_signature(url, params, token)
        if hmac.compare_digest(received.strip().encode(), expected.encode()):
            return
    settings = request.header(SIGNATURE_SETTINGS_HEADER)
    if settings and "HMAC_SHA1" not in settings.upper():
        raise SignatureInvalid(
            f"Twilio signed this request with a webhooks shared key ({settings}); "
            "only auth-token (HMAC-SHA1) signatures are supported"
        )
    raise SignatureInvalid(
        "X-Twilio-Signature does not match: check the auth token and that the public URL "
        "is the one configured in Twilio (scheme, host and path)"
    )


def twilio_config(config: ChannelConfig) -> TwilioConfig:
    return expect_config(config, TwilioConfig)


# --- error texts (§5.3) -----------------------------------------------------------------

WINDOW_CLOSED_CODE = "63016"

READABLE_ERRORS = {
    "63016": "Outside WhatsApp's 24-hour customer service window: "
    "send an approved template (Twilio 63016)",
    "63015": "The WhatsApp sandbox only reaches numbers that have joined it (Twilio 63015)",
    "30003": "The recipient's phone is unreachable: switched off or out of coverage (Twilio 30003)",
    "30005": "Unknown destination: the number does not exist or is no longer in service "
    "(Twilio 30005)",
    "30006": "The number is a landline or cannot receive text messages (Twilio 30006)",
    "30007": "The carrier filtered the message as spam or unwanted (Twilio 30007)",
    "21211": "The recipient's phone number is not valid (Twilio 21211)",
    "21408": "Sending to this country is not enabled on the Twilio account (Twilio 21408)",
    "21610": "The recipient unsubscribed by replying STOP; they must reply START to receive "
    "messages again (Twilio 21610)",
    "21614": "The recipient's number is not a mobile number (Twilio 21614)",
}


def error_reason(code: str | None, provider_text: str | None = None) -> str:
    """A sentence an agent can act on, for a Twilio error code."""
    if code and code in READABLE_ERRORS:
        return READABLE_ERRORS[code]
    if provider_text:
        return f"{provider_text} (Twilio {code})" if code else provider_text
    return f"Twilio error {code}" if code else "Twilio reported an error without a code"


def api_error(response: httpx.Response) -> SendFailed:
    """Twilio's error body: ``{"code": 21211, "message": ..., "more_info": ..., "status": 400}``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error: dict[str, Any] = body if isinstance(body, dict) else {}
    code = str(error["code"]) if error.get("code") is not None else None
    message = error.get("message") or f"HTTP {response.status_code}"
    return SendFailed(
        error_reason(code, message),
        code=code or f"http_{response.status_code}",
        transient=response.status_code == 429 or response.status_code >= 500,
        http_status=response.status_code,
    )


# --- REST (§5.3) -------------------------------------------------------------------------


def account_url(config: TwilioConfig, path: str) -> str:
    base = str(config.api_base_url).rstrip("/")
    return f"{base}/{API_VERSION}/Accounts/{config.account_sid}/{path.lstrip('/')}"


def basic_auth(config: TwilioConfig) -> httpx.BasicAuth:
    if config.auth_token is None:
        raise SendFailed(
            "this inbox has no Twilio auth token configured",
            code="no_auth_token",
            transient=False,
            http_status=None,
        )
    return httpx.BasicAuth(config.account_sid, config.auth_token.get_secret_value())


async def create_message(
    config: TwilioConfig, fields: Mapping[str, str], http: httpx.AsyncClient
) -> DeliveryReceipt:
    """Create a Message resource; its ``sid`` correlates the later status callbacks."""
    response = await call_provider(
        http,
        "POST",
        account_url(config, "Messages.json"),
        read_error=api_error,
        data=dict(fields),
        auth=basic_auth(config),
    )
    try:
        sid = response.json().get("sid")
    except (ValueError, AttributeError):
        sid = None
    if not isinstance(sid, str) or not sid:
        raise SendFailed(
            "Twilio accepted the message but its answer has no sid",
            code="no_sid",
            transient=False,
            http_status=response.status_code,
        )
    return DeliveryReceipt(external_id=sid)


# --- status callbacks (§5.3) -------------------------------------------------------------

_DELIVERY = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


def status_update(fields: Mapping[str, str], message_sid: str) -> StatusUpdate | Ignored:
    """One status callback. Steps before ``sent`` (queued, accepted, scheduled, sending)
    say nothing the send receipt did not, and unknown statuses are new Twilio values:
    both are ignored rather than refused."""
    raw = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").lower()
    status = _DELIVERY.get(raw)
    if status is None:
        return Ignored(kind=f"twilio_status_{raw or 'missing'}", external_id=message_sid)
    if status is not DeliveryStatus.FAILED:
        return StatusUpdate(external_id=message_sid, status=status)
    code = fields.get("ErrorCode") or None
    status_message = fields.get("ChannelStatusMessage") or None
    if code or status_message:
        reason = error_reason(code, status_message)
    elif raw == "canceled":
        reason = "The scheduled message was canceled before Twilio sent it"
    else:
        reason = f"Twilio reports the message as {raw} without an error code"
    return StatusUpdate(external_id=message_sid, status=status, error_code=code, error=reason)


def first_values(fields: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """A form with repeated names reduced to each name's first value."""
    return {name: next(iter(values), "") for name, values in fields.items()}
