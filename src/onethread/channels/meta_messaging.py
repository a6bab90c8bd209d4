"""What Instagram and Messenger share: the ``entry[].messaging[]`` webhook and the Send API.

REFERENCE.md §3.2 (Instagram webhook shape, echoes, standby, ms timestamps) and §4
(Messenger events, deliveries and reads, Send API); the signature and the handshake are
§1, in ``meta.py``. The two channels differ only in the webhook ``object``, the id that
owns the inbox and the text limit, so each adapter is a few class attributes over
``MetaMessagingAdapter``.

Choices the reference leaves open, made here:

- An unsend (``is_deleted``) is ``Ignored("deleted", mid)``: the message stays on record.
- ``read.mid`` (Instagram ``messaging_seen``) is a read receipt for that outbound message;
  a read or delivery carrying only a ``watermark`` (Messenger) names no message and is
  ``Ignored``.
- A postback without a ``mid`` gets ``postback:<sender>:<timestamp>`` so retries dedup.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from onethread.channels.base import (
    DeliveryReceipt,
    Echo,
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
from onethread.channels.meta import (
    answer_handshake,
    as_dict,
    as_text,
    bearer,
    graph_error,
    graph_url,
    load_json,
    verify_signature,
)
from onethread.channels.sending import call_provider
from onethread.channels.text import buttons_as_text
from onethread.contacts.identity import SenderIdentity
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import DeliveryStatus
from onethread.inboxes.channel_config import ChannelConfig, MetaConfig
from onethread.inboxes.models import IDENTITY_CHANNEL, ChannelKind

# Threads owned by another app (handover protocol) arrive in ``standby`` (§3.2).
EVENT_LISTS = ("messaging", "standby")
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE_LENGTH = 20
UNSUPPORTED_TEXT = "[Unsupported message]"

ATTACHMENT_ALIASES = {"ig_reel": "reel"}
# Labels for texts like "[Image]"; other types read as themselves ("story_mention").
ATTACHMENT_LABELS = {"share": "Shared post", "fallback": "Link"}
_FILENAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.IGNORECASE)


# --- reading webhooks -----------------------------------------------------------------


def parse_messaging_webhook(
    payload: dict[str, Any], *, expected_object: str, owner_id: str, identity_channel: str
) -> list[WebhookItem]:
    """Every event of every entry, in order; ``PayloadInvalid`` names what is wrong."""
    if payload.get("object") != expected_object:
        raise PayloadInvalid(f"expected object {expected_object!r}, got {payload.get('object')!r}")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise PayloadInvalid("the payload has no 'entry' list")
    items: list[WebhookItem] = []
    for index, entry in enumerate(entries):
        where = f"entry[{index}]"
        if not isinstance(entry, dict):
            raise PayloadInvalid(f"{where} is not an object")
        entry_id = entry.get("id")
        if str(entry_id) != owner_id:
            raise PayloadInvalid(
                f"{where}.id is {entry_id!r} but this inbox is account {owner_id!r}; "
                "check the inbox's configured id or the webhook URL"
            )
        items.extend(_entry_items(entry, identity_channel, where))
    return items


def _entry_items(entry: dict[str, Any], identity_channel: str, where: str) -> list[WebhookItem]:
    items: list[WebhookItem] = []
    for list_name in EVENT_LISTS:
        events = entry.get(list_name, [])
        if not isinstance(events, list):
            raise PayloadInvalid(f"{where}.{list_name} is not a list")
        for index, event in enumerate(events):
            event_where = f"{where}.{list_name}[{index}]"
            if not isinstance(event, dict):
                raise PayloadInvalid(f"{event_where} is not an object")
            items.extend(_event_items(event, identity_channel, event_where))
    # Comment and mention notifications share the object but are not conversations.
    changes = entry.get("changes")
    for change in changes if isinstance(changes, list) else []:
        field = change.get("field") if isinstance(change, dict) else None
        items.append(Ignored(f"change:{field or 'unknown'}"))
    return items


def _event_items(event: dict[str, Any], identity_channel: str, where: str) -> list[WebhookItem]:
    sent_at = parse_timestamp(event.get("timestamp"))
    if "message" in event:
        return [_message_item(event, identity_channel, sent_at, where)]
    if "postback" in event:
        return [_postback_item(event, identity_channel, sent_at, where)]
    if "read" in event:
        read_mid = _section(event, "read", where).get("mid")
        if read_mid:
            return [StatusUpdate(str(read_mid), DeliveryStatus.READ, at=sent_at)]
        return [Ignored("read")]
    if "delivery" in event:
        mids = _section(event, "delivery", where).get("mids") or []
        if not mids:
            return [Ignored("delivery")]
        return [StatusUpdate(str(mid), DeliveryStatus.DELIVERED, at=sent_at) for mid in mids]
    kind = next((key for key in event if key not in {"sender", "recipient", "timestamp"}), None)
    detail = event.get(kind) if kind else None
    mid = detail.get("mid") if isinstance(detail, dict) else None
    return [Ignored(kind or "empty", str(mid) if mid else None)]


def _message_item(
    event: dict[str, Any], identity_channel: str, sent_at: datetime | None, where: str
) -> WebhookItem:
    message = _section(event, "message", where)
    mid = as_text(message.get("mid"))
    if not mid:
        raise PayloadInvalid(f"{where}.message has no mid")
    if message.get("is_deleted"):
        return Ignored("deleted", mid)
    attachments = [
        read_attachment(raw) for raw in message.get("attachments") or [] if isinstance(raw, dict)
    ]
    if message.get("is_echo"):  # sender and recipient are swapped (§3.2)
        recipient = as_text(as_dict(event.get("recipient")).get("id"))
        return Echo(
            mid,
            recipient_id=recipient or None,
            text=as_text(message.get("text")) or placeholder_text(attachments),
            attachments=attachments,
            sent_at=sent_at,
        )
    story = as_dict(message.get("reply_to")).get("story")
    if isinstance(story, dict):
        story_reply = {"type": "story_reply", "id": story.get("id")}
        if story.get("url"):
            story_reply["url"] = story["url"]
        attachments.append(story_reply)
    quick_reply = message.get("quick_reply")
    interactive = None
    if isinstance(quick_reply, dict):
        interactive = {"type": "quick_reply", "payload": quick_reply.get("payload")}
    if message.get("is_unsupported"):
        text = UNSUPPORTED_TEXT
    else:
        text = as_text(message.get("text")) or placeholder_text(attachments)
    return InboundMessage(
        sender=_sender(event, identity_channel, where),
        text=text,
        external_id=mid,
        attachments=attachments,
        interactive=interactive,
        sent_at=sent_at,
    )


def _postback_item(
    event: dict[str, Any], identity_channel: str, sent_at: datetime | None, where: str
) -> InboundMessage:
    postback = _section(event, "postback", where)
    sender = _sender(event, identity_channel, where)
    title, payload = as_text(postback.get("title")), as_text(postback.get("payload"))
    mid = postback.get("mid") or f"postback:{sender.external_id}:{event.get('timestamp')}"
    return InboundMessage(
        sender=sender,
        text=title or payload or "[Button]",
        external_id=str(mid),
        interactive={"type": "postback", "payload": payload, "title": title},
        sent_at=sent_at,
    )


def read_attachment(raw: dict[str, Any]) -> dict[str, Any]:
    """``{"type", "url", ...}``: Instagram sends stickers as images with a ``sticker_id``."""
    payload: dict[str, Any] = raw["payload"] if isinstance(raw.get("payload"), dict) else {}
    kind = str(raw.get("type") or "unknown")
    if payload.get("sticker_id") is not None:
        kind = "sticker"
    attachment: dict[str, Any] = {"type": ATTACHMENT_ALIASES.get(kind, kind)}
    # Messenger's "fallback" is a shared web page: its "URL" is a link, not media to fetch.
    if payload.get("url"):
        attachment["url"] = payload["url"]
    if raw.get("URL"):
        attachment["link"] = raw["URL"]
    title = payload.get("title") or raw.get("title")
    if title:
        attachment["title"] = title
    for key in ("sticker_id", "reel_video_id"):
        if payload.get(key) is not None:
            attachment[key] = payload[key]
    coordinates = payload.get("coordinates")
    if isinstance(coordinates, dict):
        attachment["latitude"] = coordinates.get("lat")
        attachment["longitude"] = coordinates.get("long")
    return attachment


def placeholder_text(attachments: list[dict[str, Any]]) -> str:
    """What an agent reads for a message with no text, e.g. ``[Image]``."""
    if not attachments:
        return "[Empty message]"
    labels = [
        ATTACHMENT_LABELS.get(item["type"], str(item["type"]).replace("_", " ").capitalize())
        for item in attachments
    ]
    return "[" + ", ".join(labels) + "]"


def parse_timestamp(raw: Any) -> datetime | None:
    """Milliseconds since the epoch, as an int or (in some payloads) a string."""
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _section(event: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    section = event.get(name)
    if not isinstance(section, dict):
        raise PayloadInvalid(f"{where}.{name} is not an object")
    return section


def _sender(event: dict[str, Any], identity_channel: str, where: str) -> SenderIdentity:
    sender_id = as_text(as_dict(event.get("sender")).get("id"))
    if not sender_id:
        raise PayloadInvalid(f"{where} has no sender.id")
    return SenderIdentity(channel=identity_channel, external_id=str(sender_id), verified=False)


# --- sending -------------------------------------------------------------------------


def message_body(
    recipient_id: str,
    text: str,
    *,
    human_agent: bool = False,
    quick_replies: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The Send API JSON (§4): ``RESPONSE`` inside the 24 h window, ``HUMAN_AGENT`` after."""
    body: dict[str, Any] = {"recipient": {"id": recipient_id}}
    if human_agent:
        body |= {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    else:
        body["messaging_type"] = "RESPONSE"
    message: dict[str, Any] = {"text": text}
    if quick_replies:
        message["quick_replies"] = quick_replies
    body["message"] = message
    return body


def quick_replies_for(outbound: Outbound) -> tuple[str, list[dict[str, str]] | None]:
    """The text and quick replies to send; more than 13 buttons degrade to numbered text.

    Templates do not exist on these channels: the text alone is sent.
    """
    buttons = (outbound.interactive or {}).get("buttons") or []
    if not buttons:
        return outbound.text, None
    if len(buttons) > MAX_QUICK_REPLIES:
        return buttons_as_text(outbound.text, outbound.interactive), None
    replies = []
    for button in buttons:
        title = str(button["title"])
        if len(title) > QUICK_REPLY_TITLE_LENGTH:
            title = title[: QUICK_REPLY_TITLE_LENGTH - 1] + "…"
        replies.append({"content_type": "text", "title": title, "payload": str(button["id"])})
    return outbound.text, replies


async def send_message(
    http: httpx.AsyncClient, config: MetaConfig, owner_id: str, outbound: Outbound
) -> DeliveryReceipt:
    """``POST /{owner_id}/messages``; the text already fits (``outbound.py`` splits it)."""
    text, quick_replies = quick_replies_for(outbound)
    if not text.strip():
        raise SendFailed(
            "the message has no text", code="empty_message", transient=False, http_status=None
        )
    body = message_body(
        outbound.recipient.external_id,
        text,
        human_agent=outbound.human_agent,
        quick_replies=quick_replies,
    )
    response = await call_provider(
        http,
        "POST",
        graph_url(config, f"{owner_id}/messages"),
        read_error=graph_error,
        headers=bearer(config),
        json=body,
    )
    return _receipt(response)


def _receipt(response: httpx.Response) -> DeliveryReceipt:
    try:
        message_id = response.json().get("message_id")
    except (ValueError, AttributeError):
        message_id = None
    if not message_id:
        # Accepted but unreadable: final, since retrying could send the message twice.
        raise SendFailed(
            "the provider accepted the message but returned no message_id",
            code="no_message_id",
            transient=False,
            http_status=response.status_code,
        )
    return DeliveryReceipt(external_id=str(message_id))


async def download_attachment(http: httpx.AsyncClient, attachment: dict[str, Any]) -> MediaFile:
    """GET the attachment's CDN URL; no token, since the URL is signed and the host is not
    the Graph API. The URLs expire, so download soon after the webhook (§3.2)."""
    url = attachment.get("url")
    if not isinstance(url, str) or not url:
        raise SendFailed(
            f"the {attachment.get('type', 'attachment')} has no url to download",
            code="no_media_url",
            transient=False,
            http_status=None,
        )
    response = await call_provider(http, "GET", url, read_error=graph_error, follow_redirects=True)
    mime_type = response.headers.get("content-type", "").split(";")[0].strip() or None
    match = _FILENAME.search(response.headers.get("content-disposition", ""))
    return MediaFile(
        content=response.content,
        mime_type=mime_type,
        filename=match.group(1) if match else None,
    )


# --- the adapter ---------------------------------------------------------------------


class MetaMessagingAdapter:
    """The ``ChannelAdapter`` of Instagram and Messenger; subclasses name their differences."""

    kind: ClassVar[ChannelKind]
    webhook_object: ClassVar[str]
    max_text_length: ClassVar[int | None]
    limit_in_bytes: ClassVar[bool]
    supports_buttons: ClassVar[bool] = True
    # 24 h to answer; a human agent may answer for 7 days with the HUMAN_AGENT tag (§3.2).
    window: ClassVar[ReplyWindow | None] = ReplyWindow(hours=24, human_agent_hours=24 * 7)

    def owner_id(self, config: ChannelConfig) -> str:
        """The account or page the inbox is: ``entry[].id`` and the send path."""
        raise NotImplementedError

    def verify(self, config: ChannelConfig, request: WebhookRequest) -> None:
        verify_signature(expect_config(config, MetaConfig), request)

    def handshake(self, config: ChannelConfig, request: WebhookRequest) -> str | None:
        return answer_handshake(expect_config(config, MetaConfig), request)

    def parse(self, config: ChannelConfig, request: WebhookRequest) -> list[WebhookItem]:
        return parse_messaging_webhook(
            load_json(request),
            expected_object=self.webhook_object,
            owner_id=self.owner_id(config),
            identity_channel=IDENTITY_CHANNEL[self.kind],
        )

    def acknowledgement(self) -> tuple[bytes, str]:
        return b"", "text/plain"

    async def send(
        self, config: ChannelConfig, outbound: Outbound, http: httpx.AsyncClient
    ) -> DeliveryReceipt:
        meta_config = expect_config(config, MetaConfig)
        return await send_message(http, meta_config, self.owner_id(config), outbound)

    async def fetch_media(
        self, config: ChannelConfig, attachment: dict[str, Any], http: httpx.AsyncClient
    ) -> MediaFile:
        return await download_attachment(http, attachment)
