"""The channel contract: what every adapter takes and returns.

An adapter is a pure translator between a provider's HTTP and these channel-neutral
dataclasses. It never touches the database: ``ingest.py`` (inbound) and
``delivery.py`` (outbound) are the only bridge to the domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar
from urllib.parse import parse_qsl

import httpx

from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import DeliveryStatus
from onethread.errors import DomainError, InvalidInput
from onethread.inboxes.channel_config import ChannelConfig
from onethread.inboxes.models import ChannelKind

ConfigT = TypeVar("ConfigT", bound=ChannelConfig)


def expect_config(config: ChannelConfig, config_type: type[ConfigT]) -> ConfigT:
    """The inbox's config as the adapter's own type (an inbox of another kind is a bug)."""
    if not isinstance(config, config_type):
        raise TypeError(f"expected a {config_type.__name__}, got a {type(config).__name__}")
    return config


class SignatureInvalid(DomainError):
    """A webhook whose signature is missing or wrong: 401, nothing parsed, nothing stored."""

    status_code = 401
    code = "invalid_signature"


class PayloadInvalid(InvalidInput):
    """A signed webhook we cannot read: 400 with the reason."""

    code = "invalid_payload"


@dataclass(frozen=True)
class WebhookRequest:
    """A provider's request exactly as received: raw bytes, before anything is parsed.

    ``url`` is the public URL the provider called (``ONETHREAD_PUBLIC_URL`` + path +
    the raw query string), which Twilio signs. Header names are lower case.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def form(self) -> dict[str, list[str]]:
        """The body as form fields (Twilio); every value of a repeated name is kept."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadInvalid("the form body is not UTF-8") from exc
        fields: dict[str, list[str]] = {}
        for name, value in parse_qsl(text, keep_blank_values=True):
            fields.setdefault(name, []).append(value)
        return fields


@dataclass
class StatusUpdate:
    """A provider's news about one of our outbound messages, keyed by its provider id."""

    external_id: str
    status: DeliveryStatus
    error_code: str | None = None
    error: str | None = None
    at: datetime | None = None


@dataclass
class Echo:
    """The provider repeating a message the business sent: never stored as inbound.

    An echo of our own reply changes nothing; one sent from elsewhere (the Instagram
    app, Meta's inbox) is recorded in the thread as a reply, so agents see it.
    """

    external_id: str
    recipient_id: str | None = None
    text: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    sent_at: datetime | None = None


@dataclass
class Ignored:
    """An event we read and deliberately do nothing with (reactions, reads, deletions)."""

    kind: str
    external_id: str | None = None


WebhookItem = InboundMessage | StatusUpdate | Echo | Ignored


@dataclass
class Recipient:
    """Who an outbound message goes to, from the contact's identity on that channel."""

    external_id: str
    phone: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outbound:
    """One message to send. ``interactive`` holds buttons or a template when present.

    ``interactive`` shapes: ``{"buttons": [{"id": ..., "title": ...}]}`` and
    ``{"template": {"name": ..., "language": ..., "parameters": [...]}}``; a channel
    without buttons degrades them to numbered text.
    """

    message_id: int
    recipient: Recipient
    text: str
    interactive: dict[str, Any] | None = None
    human_agent: bool = False
    #: Where the provider should post this message's statuses (Twilio asks per message).
    status_callback_url: str | None = None


@dataclass
class DeliveryReceipt:
    """The provider accepted the message: its id correlates later status updates."""

    external_id: str
    status: DeliveryStatus = DeliveryStatus.SENT


class SendFailed(Exception):
    """The provider refused. ``transient`` (429, 5xx, timeouts) is retried; the rest is final."""

    def __init__(
        self, reason: str, *, code: str | None = None, transient: bool, http_status: int | None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.transient = transient
        self.http_status = http_status


@dataclass
class MediaFile:
    content: bytes
    mime_type: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class ReplyWindow:
    """A channel's rule for free-form replies after the customer's last message."""

    hours: int
    human_agent_hours: int | None = None  # Meta's HUMAN_AGENT tag extends the window
    template_fallback: bool = False  # WhatsApp: templates may be sent outside it


class ChannelAdapter(Protocol):
    """What every channel implements. Methods take the inbox's full (decrypted) config."""

    kind: ClassVar[ChannelKind]
    #: Longest text one provider message may carry (``None``: no limit).
    max_text_length: ClassVar[int | None]
    #: Whether the limit counts UTF-8 bytes (Instagram) rather than characters.
    limit_in_bytes: ClassVar[bool]
    #: Whether the channel shows tappable buttons; if not they degrade to numbered text.
    supports_buttons: ClassVar[bool]
    window: ClassVar[ReplyWindow | None]

    def verify(self, config: ChannelConfig, request: WebhookRequest) -> None:
        """Raise ``SignatureInvalid`` unless the request is signed by the provider."""

    def handshake(self, config: ChannelConfig, request: WebhookRequest) -> str | None:
        """Answer a GET verification request (Meta); ``None`` when the channel has none."""

    def parse(self, config: ChannelConfig, request: WebhookRequest) -> list[WebhookItem]:
        """Everything in a verified request, in order. Raise ``PayloadInvalid`` if unreadable."""

    def acknowledgement(self) -> tuple[bytes, str]:
        """The body and media type of the 200 the provider expects."""

    async def send(
        self, config: ChannelConfig, outbound: Outbound, http: httpx.AsyncClient
    ) -> DeliveryReceipt:
        """Send one message; raise ``SendFailed`` when the provider refuses it."""

    async def fetch_media(
        self, config: ChannelConfig, attachment: dict[str, Any], http: httpx.AsyncClient
    ) -> MediaFile:
        """Download an inbound attachment recorded by ``parse``."""
