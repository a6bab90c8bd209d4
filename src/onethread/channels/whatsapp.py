"""WhatsApp Cloud API (REFERENCE.md §2): webhooks in, Graph API sends out.

A customer is keyed on their business-scoped user id (BSUID) when the payload has
one, else on their number; ``wa_id``/``from`` may be empty strings (§2.2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from onethread.channels import meta
from onethread.channels.base import (
    DeliveryReceipt,
    Ignored,
    MediaFile,
    Outbound,
    PayloadInvalid,
    ReplyWindow,
    SendFailed,
    StatusUpdate,
    WebhookItem,
    WebhookRequest,
    expect_config,
)
from onethread.channels.sending import call_provider
from onethread.channels.text import buttons_as_text
from onethread.contacts.identity import SenderIdentity
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import DeliveryStatus
from onethread.inboxes.channel_config import ChannelConfig, WhatsAppConfig
from onethread.inboxes.models import ChannelKind

MEDIA_TYPES = {"image": "image", "video": "video", "audio": "audio", "document": "file"}
STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "played": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}
WINDOW_CLOSED = "131047"
WINDOW_REASON = (
    "Outside WhatsApp's 24-hour customer service window: the customer has not written "
    "in the last 24 hours, so only an approved template can be sent (WhatsApp 131047)"
)
MAX_BUTTONS = 3
MAX_LIST_ROWS = 10
MAX_INTERACTIVE_BODY = 1024


def _timestamp(raw: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _error_reason(code: str | None, message: str, details: str | None) -> str:
    if code == WINDOW_CLOSED:
        return WINDOW_REASON
    return f"{message}: {details}" if details else message


def _sender(message: dict[str, Any], contacts: list[Any]) -> SenderIdentity:
    number = str(message.get("from") or "")
    user_id = str(message.get("from_user_id") or "")
    profile: dict[str, Any] = {}
    for contact in contacts:
        if not isinstance(contact, dict):
            continue
        if (user_id and contact.get("user_id") == user_id) or (
            number and contact.get("wa_id") == number
        ):
            profile = meta.as_dict(contact.get("profile"))
            user_id = user_id or (meta.as_text(contact.get("user_id")) or "")
            break
    key = user_id or number
    if not key:
        raise PayloadInvalid(f"message {message.get('id')} names no sender (from, from_user_id)")
    details = {
        name: value
        for name, value in (
            ("wa_id", number),
            ("user_id", user_id),
            ("username", meta.as_text(profile.get("username"))),
        )
        if value
    }
    return SenderIdentity(
        channel="whatsapp",
        external_id=key,
        display_name=meta.as_text(profile.get("name")) or meta.as_text(profile.get("username")),
        phone=number or None,
        verified=bool(number),  # WhatsApp verified the number when it registered it
        details=details,
    )


def _content(message: dict[str, Any]) -> tuple[str, list[dict[str, Any]], dict[str, Any] | None]:
    """Text, attachments and interactive part of one message; unknown types get a placeholder."""
    kind = str(message.get("type") or "unknown")
    raw = message.get(kind)
    body: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if kind == "text":
        return meta.as_text(body.get("body")) or "", [], None
    if kind in MEDIA_TYPES or kind == "sticker":
        attachment = {
            "type": MEDIA_TYPES.get(kind, "sticker"),
            "provider_media_id": body.get("id"),
            "mime_type": body.get("mime_type"),
            "sha256": body.get("sha256"),
            "filename": body.get("filename"),
            "voice": body.get("voice"),
        }
        attachment = {name: value for name, value in attachment.items() if value is not None}
        return meta.as_text(body.get("caption")) or "", [attachment], None
    if kind == "interactive":
        reply = meta.as_dict(body.get("button_reply") or body.get("list_reply"))
        reply_type = "button_reply" if "button_reply" in body else "list_reply"
        title = meta.as_text(reply.get("title"))
        interactive = {"type": reply_type, "id": meta.as_text(reply.get("id")), "title": title}
        return title or "", [], interactive
    if kind == "button":  # a template's quick-reply button
        title = meta.as_text(body.get("text"))
        interactive = {
            "type": "button_reply",
            "id": meta.as_text(body.get("payload")),
            "title": title,
        }
        return title or "", [], interactive
    if kind == "location":
        place = ", ".join(str(body[key]) for key in ("name", "address") if body.get(key))
        where = place or f"{body.get('latitude')}, {body.get('longitude')}"
        location = {"type": "location", **body}
        return f"📍 {where}", [location], None
    if kind == "contacts":
        cards = raw if isinstance(raw, list) else []
        names = [
            meta.as_text(meta.as_dict(card.get("name")).get("formatted_name")) or ""
            for card in cards
            if isinstance(card, dict)
        ]
        return f"[Shared contact: {', '.join(names) or 'unnamed'}]", [], None
    if kind == "unsupported":
        what = meta.as_text(body.get("type")) or "unknown"
        return f"[Unsupported WhatsApp message: {what}]", [], None
    return f"[Unsupported WhatsApp message: {kind}]", [], None


def _messages(value: dict[str, Any]) -> list[WebhookItem]:
    items: list[WebhookItem] = []
    raw_contacts = value.get("contacts")
    contacts = raw_contacts if isinstance(raw_contacts, list) else []
    for message in meta.as_list(value.get("messages"), "messages"):
        if not isinstance(message, dict) or not message.get("id"):
            raise PayloadInvalid("a message without an id")
        kind = message.get("type")
        if kind in ("reaction", "system", "ephemeral", "request_welcome"):
            items.append(Ignored(str(kind), str(message["id"])))
            continue
        text, attachments, interactive = _content(message)
        items.append(
            InboundMessage(
                sender=_sender(message, contacts),
                text=text,
                external_id=str(message["id"]),
                attachments=attachments,
                interactive=interactive,
                sent_at=_timestamp(message.get("timestamp")),
            )
        )
    return items


def _statuses(value: dict[str, Any]) -> list[WebhookItem]:
    items: list[WebhookItem] = []
    for status in meta.as_list(value.get("statuses"), "statuses"):
        if not isinstance(status, dict) or not status.get("id"):
            raise PayloadInvalid("a status without an id")
        mapped = STATUSES.get(str(status.get("status")))
        if mapped is None:
            items.append(Ignored(f"status:{status.get('status')}", str(status["id"])))
            continue
        code = reason = None
        errors = status.get("errors")
        if isinstance(errors, list) and errors:
            error = meta.as_dict(errors[0])
            code = meta.as_text(error.get("code"))
            details = meta.as_text(meta.as_dict(error.get("error_data")).get("details"))
            message = meta.as_text(error.get("message")) or meta.as_text(error.get("title"))
            reason = _error_reason(code, message or "failed", details)
        items.append(
            StatusUpdate(
                external_id=str(status["id"]),
                status=mapped,
                error_code=code,
                error=reason,
                at=_timestamp(status.get("timestamp")),
            )
        )
    return items


class WhatsAppAdapter:
    kind: ClassVar[ChannelKind] = ChannelKind.WHATSAPP
    max_text_length: ClassVar[int | None] = 4096
    limit_in_bytes: ClassVar[bool] = False
    supports_buttons: ClassVar[bool] = True
    window: ClassVar[ReplyWindow | None] = ReplyWindow(hours=24, template_fallback=True)

    def verify(self, config: ChannelConfig, request: WebhookRequest) -> None:
        meta.verify_signature(expect_config(config, WhatsAppConfig), request)

    def handshake(self, config: ChannelConfig, request: WebhookRequest) -> str | None:
        return meta.answer_handshake(expect_config(config, WhatsAppConfig), request)

    def parse(self, config: ChannelConfig, request: WebhookRequest) -> list[WebhookItem]:
        own_number = expect_config(config, WhatsAppConfig).phone_number_id
        payload = meta.load_json(request)
        if payload.get("object") != "whatsapp_business_account":
            raise PayloadInvalid(
                f"expected object whatsapp_business_account, not {payload.get('object')!r}"
            )
        entries = payload.get("entry")
        if not isinstance(entries, list):
            raise PayloadInvalid("entry must be a list")
        items: list[WebhookItem] = []
        for entry in entries:
            changes = entry.get("changes") if isinstance(entry, dict) else None
            if not isinstance(changes, list):
                raise PayloadInvalid("entry[].changes must be a list")
            for change in changes:
                value = change.get("value") if isinstance(change, dict) else None
                if not isinstance(value, dict) or change.get("field") != "messages":
                    items.append(Ignored(f"field:{meta.as_dict(change).get('field')}"))
                    continue
                number_id = meta.as_dict(value.get("metadata")).get("phone_number_id")
                if number_id is not None and str(number_id) != own_number:
                    # One Meta app calls one URL for all its numbers: another inbox's news.
                    items.append(Ignored(f"phone_number_id:{number_id}"))
                    continue
                items.extend(_messages(value))
                items.extend(_statuses(value))
                if value.get("errors"):
                    items.append(Ignored("errors"))
        return items

    def acknowledgement(self) -> tuple[bytes, str]:
        return b"", "text/plain"

    async def send(
        self, config: ChannelConfig, outbound: Outbound, http: httpx.AsyncClient
    ) -> DeliveryReceipt:
        whatsapp = expect_config(config, WhatsAppConfig)
        response = await call_provider(
            http,
            "POST",
            meta.graph_url(whatsapp, f"{whatsapp.phone_number_id}/messages"),
            read_error=_send_error,
            headers=meta.bearer(whatsapp),
            json=_send_body(outbound),
        )
        try:
            return DeliveryReceipt(external_id=str(response.json()["messages"][0]["id"]))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise SendFailed(
                f"unexpected answer from the Graph API: {response.text[:200]}",
                code="bad_response",
                transient=True,
                http_status=response.status_code,
            ) from exc

    async def fetch_media(
        self, config: ChannelConfig, attachment: dict[str, Any], http: httpx.AsyncClient
    ) -> MediaFile:
        whatsapp = expect_config(config, WhatsAppConfig)
        media_id = attachment.get("provider_media_id")
        if not media_id:
            raise SendFailed("no media id", code="no_media", transient=False, http_status=None)
        headers = meta.bearer(whatsapp)
        described = await call_provider(
            http,
            "GET",
            meta.graph_url(whatsapp, str(media_id)),
            read_error=meta.graph_error,
            headers=headers,
        )
        info = described.json()
        content = await call_provider(
            http, "GET", str(info["url"]), read_error=meta.graph_error, headers=headers
        )
        return MediaFile(
            content=content.content,
            mime_type=info.get("mime_type") or attachment.get("mime_type"),
            filename=attachment.get("filename"),
        )


def _send_error(response: httpx.Response) -> SendFailed:
    failure = meta.graph_error(response)
    if failure.code == WINDOW_CLOSED:
        failure.reason = WINDOW_REASON
        failure.transient = False
    return failure


def _recipient(outbound: Outbound) -> str:
    if outbound.recipient.phone:
        return outbound.recipient.phone.removeprefix("+")
    return outbound.recipient.external_id


def _send_body(outbound: Outbound) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": _recipient(outbound),
    }
    interactive = outbound.interactive or {}
    template = interactive.get("template")
    buttons = interactive.get("buttons") or []
    if template:
        parameters = [
            {"type": "text", "text": str(value)} for value in template.get("parameters", [])
        ]
        body["type"] = "template"
        body["template"] = {
            "name": template["name"],
            "language": {"code": template.get("language") or "en_US"},
            "components": [{"type": "body", "parameters": parameters}] if parameters else [],
        }
    elif buttons and len(outbound.text) <= MAX_INTERACTIVE_BODY and len(buttons) <= MAX_LIST_ROWS:
        body["type"] = "interactive"
        choices = [
            {"id": str(button["id"]), "title": str(button["title"])[:24]} for button in buttons
        ]
        if len(buttons) <= MAX_BUTTONS:
            action: dict[str, Any] = {
                "buttons": [
                    {"type": "reply", "reply": {"id": choice["id"], "title": choice["title"][:20]}}
                    for choice in choices
                ]
            }
            body["interactive"] = {
                "type": "button",
                "body": {"text": outbound.text},
                "action": action,
            }
        else:
            action = {"button": "Choose", "sections": [{"title": "Options", "rows": choices}]}
            body["interactive"] = {
                "type": "list",
                "body": {"text": outbound.text},
                "action": action,
            }
    else:
        body["type"] = "text"
        body["text"] = {"preview_url": False, "body": buttons_as_text(outbound.text, interactive)}
    return body
