"""SMS/MMS and WhatsApp through Twilio Programmable Messaging.

REFERENCE.md §5.3: one form-encoded webhook carries both inbound messages and the status
callbacks of our outbound ones (those have ``MessageStatus``). WhatsApp addresses carry a
``whatsapp:`` prefix, which the contact identity drops and replies put back. Twilio is
answered with an empty ``<Response/>``: replies go later through the REST API.

Outside WhatsApp's 24-hour window only templates go through, by Content SID
(``ContentSid`` + ``ContentVariables``; Body-based templates fail since 2025-04-01): an
inbox's ``WhatsAppTemplate.name`` holds that ``HX…`` SID.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from onethread.channels import twilio
from onethread.channels.base import (
    DeliveryReceipt,
    MediaFile,
    Outbound,
    PayloadInvalid,
    ReplyWindow,
    SendFailed,
    WebhookItem,
    WebhookRequest,
)
from onethread.channels.sending import call_provider
from onethread.channels.text import buttons_as_text
from onethread.contacts.identity import SenderIdentity, normalize_phone
from onethread.conversations.inbound import InboundMessage
from onethread.inboxes.channel_config import ChannelConfig, TwilioConfig
from onethread.inboxes.models import IDENTITY_CHANNEL, ChannelKind

WHATSAPP_PREFIX = "whatsapp:"
CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
_INBOUND_STATUSES = {"", "received", "receiving"}


def attachment_type(mime_type: str) -> str:
    """``image``, ``video``, ``audio`` or ``file``, from a media type."""
    major = mime_type.split("/", 1)[0].lower()
    return major if major in {"image", "video", "audio"} else "file"


class _TwilioMessagingAdapter:
    """The behaviour SMS and WhatsApp share; they differ by the address prefix."""

    kind: ClassVar[ChannelKind]
    max_text_length: ClassVar[int | None] = 1600
    limit_in_bytes: ClassVar[bool] = False
    # Tappable WhatsApp buttons need the Content API; free-form replies number them.
    supports_buttons: ClassVar[bool] = False
    window: ClassVar[ReplyWindow | None] = None
    prefix: ClassVar[str] = ""

    # --- inbound -------------------------------------------------------------------------

    def verify(self, config: ChannelConfig, request: WebhookRequest) -> None:
        twilio.verify_signature(twilio.twilio_config(config), request)

    def handshake(self, config: ChannelConfig, request: WebhookRequest) -> str | None:
        return None

    def parse(self, config: ChannelConfig, request: WebhookRequest) -> list[WebhookItem]:
        fields = twilio.first_values(request.form())
        message_sid = fields.get("MessageSid")
        if not message_sid:
            raise PayloadInvalid("a Twilio messaging webhook needs a MessageSid")
        # Inbound messages say "received" (or nothing); our messages' callbacks say the rest.
        message_status = fields.get("MessageStatus") or fields.get("SmsStatus") or ""
        if message_status.lower() in _INBOUND_STATUSES:
            return [self._inbound(fields, message_sid)]
        return [twilio.status_update(fields, message_sid)]

    def acknowledgement(self) -> tuple[bytes, str]:
        return twilio.EMPTY_TWIML, twilio.TWIML_MEDIA_TYPE

    def _inbound(self, fields: Mapping[str, str], message_sid: str) -> InboundMessage:
        sender = self._sender(fields)
        attachments = _media(fields)
        text = fields.get("Body", "")
        location = _location(fields)
        if location is not None:
            attachments.append(location)
            if not text.strip():
                text = "📍 " + _place(location)
        interactive = _button_reply(fields)
        if interactive is not None and not text.strip():
            text = interactive["title"]
        if not text.strip() and not attachments:
            # A message type Twilio forwards without content (e.g. a sticker or a poll).
            text = f"[Unsupported message: {fields.get('MessageType') or 'no content'}]"
        return InboundMessage(
            sender=sender,
            text=text,
            external_id=message_sid,
            attachments=attachments,
            interactive=interactive,
        )

    def _sender(self, fields: Mapping[str, str]) -> SenderIdentity:
        address = fields.get("From", "").strip()
        if not address:
            raise PayloadInvalid("a Twilio inbound message needs a From address")
        scheme, colon, bare = address.rpartition(":")
        if f"{scheme}{colon}" != self.prefix:
            expected = f"a {self.prefix!r} address" if self.prefix else "a plain phone number"
            raise PayloadInvalid(
                f"From {address!r} is not {expected}: this {self.kind.value} inbox's webhook "
                "is configured on the wrong Twilio sender"
            )
        phone = normalize_phone(bare)
        details = {"wa_id": fields["WaId"]} if fields.get("WaId") else {}
        return SenderIdentity(
            channel=IDENTITY_CHANNEL[self.kind],
            # Short codes and alphanumeric senders are no phone number: known as they are.
            external_id=phone or bare,
            display_name=fields.get("ProfileName") or None,
            phone=phone,
            verified=phone is not None,
            details=details,
        )

    # --- outbound ------------------------------------------------------------------------

    def address(self, phone: str) -> str:
        """A phone as Twilio addresses it on this channel."""
        return self.prefix + phone.removeprefix(self.prefix)

    async def send(
        self, config: ChannelConfig, outbound: Outbound, http: httpx.AsyncClient
    ) -> DeliveryReceipt:
        settings = twilio.twilio_config(config)
        fields = {
            "From": self.address(settings.sender),
            "To": self.address(outbound.recipient.phone or outbound.recipient.external_id),
        }
        template = (outbound.interactive or {}).get("template")
        if template is not None and self.prefix == WHATSAPP_PREFIX:
            fields.update(_content_fields(template))
        else:
            body = buttons_as_text(outbound.text, outbound.interactive)
            if not body.strip():
                raise SendFailed(
                    "the message has no text to send",
                    code="empty_message",
                    transient=False,
                    http_status=None,
                )
            fields["Body"] = body
        # Twilio posts a number's status callbacks only where each message asks for them;
        # read this way until ``Outbound`` carries the inbox's status URL.
        if outbound.status_callback_url:
            fields["StatusCallback"] = outbound.status_callback_url
        return await twilio.create_message(settings, fields, http)

    async def fetch_media(
        self, config: ChannelConfig, attachment: dict[str, Any], http: httpx.AsyncClient
    ) -> MediaFile:
        settings = twilio.twilio_config(config)
        url = str(attachment.get("url") or "")
        if not url:
            raise SendFailed(
                f"this {attachment.get('type', 'attachment')} has no media URL to fetch",
                code="no_media_url",
                transient=False,
                http_status=None,
            )
        _check_media_host(settings, url)
        response = await call_provider(
            http,
            "GET",
            url,
            read_error=twilio.api_error,
            auth=twilio.basic_auth(settings),
            follow_redirects=True,
        )
        content_type = response.headers.get("content-type") or attachment.get("mime_type")
        mime_type = content_type.split(";", 1)[0].strip() if content_type else None
        return MediaFile(content=response.content, mime_type=mime_type)


class TwilioSmsAdapter(_TwilioMessagingAdapter):
    kind = ChannelKind.TWILIO_SMS


class TwilioWhatsAppAdapter(_TwilioMessagingAdapter):
    kind = ChannelKind.TWILIO_WHATSAPP
    window: ClassVar[ReplyWindow | None] = ReplyWindow(hours=24, template_fallback=True)
    prefix = WHATSAPP_PREFIX


# --- payload pieces ----------------------------------------------------------------------


def _media(fields: Mapping[str, str]) -> list[dict[str, Any]]:
    """``MediaUrl{N}``/``MediaContentType{N}`` for N from 0 to ``NumMedia`` - 1."""
    raw_count = fields.get("NumMedia") or "0"
    if not (raw_count.isascii() and raw_count.isdigit()):
        raise PayloadInvalid(f"NumMedia must be a number, not {raw_count!r}")
    media = []
    for index in range(int(raw_count)):
        url = fields.get(f"MediaUrl{index}")
        if not url:
            raise PayloadInvalid(f"NumMedia is {raw_count} but MediaUrl{index} is missing")
        mime_type = fields.get(f"MediaContentType{index}") or "application/octet-stream"
        media.append({"type": attachment_type(mime_type), "mime_type": mime_type, "url": url})
    return media


def _location(fields: Mapping[str, str]) -> dict[str, Any] | None:
    if not fields.get("Latitude") and not fields.get("Longitude"):
        return None
    try:
        latitude, longitude = float(fields["Latitude"]), float(fields["Longitude"])
    except (KeyError, ValueError) as exc:
        raise PayloadInvalid("a shared location needs numeric Latitude and Longitude") from exc
    return {
        "type": "location",
        "latitude": latitude,
        "longitude": longitude,
        "name": fields.get("Label") or None,
        "address": fields.get("Address") or None,
    }


def _place(location: Mapping[str, Any]) -> str:
    named = ", ".join(part for part in (location["name"], location["address"]) if part)
    return named or f"{location['latitude']}, {location['longitude']}"


def _button_reply(fields: Mapping[str, str]) -> dict[str, Any] | None:
    payload, title = fields.get("ButtonPayload") or "", fields.get("ButtonText") or ""
    if not payload and not title:
        return None
    return {"type": "button_reply", "id": payload or title, "title": title or payload}


def _content_fields(template: Mapping[str, Any]) -> dict[str, str]:
    """A WhatsApp template as Twilio's Content API takes it."""
    content_sid = str(template.get("name") or "")
    if not CONTENT_SID.match(content_sid):
        raise SendFailed(
            f"Twilio sends WhatsApp templates by Content SID (HX followed by 32 hex digits), "
            f"not {content_sid!r}: set the template's name to its Content SID",
            code="template_not_content_sid",
            transient=False,
            http_status=None,
        )
    fields = {"ContentSid": content_sid}
    parameters = template.get("parameters") or []
    if parameters:
        variables = {str(n): str(value) for n, value in enumerate(parameters, start=1)}
        fields["ContentVariables"] = json.dumps(variables, ensure_ascii=False)
    return fields


def _check_media_host(config: TwilioConfig, url: str) -> None:
    """Media is fetched with the account's credentials: only ever from Twilio's own API."""
    api = urlsplit(str(config.api_base_url))
    media = urlsplit(url)
    if (media.scheme, media.netloc) != (api.scheme, api.netloc):
        raise SendFailed(
            f"refusing to fetch media from {media.netloc or url!r}: "
            f"only {api.netloc} is trusted with the account's credentials",
            code="untrusted_media_host",
            transient=False,
            http_status=None,
        )
