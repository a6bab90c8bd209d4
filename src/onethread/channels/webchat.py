"""The web chat widget as a channel: no provider, no webhooks, replies pushed live.

Visitors write through the widget API (``widget_api.py``), which hands their messages
to ``ingest`` like any webhook. Sending a reply only marks it sent: the widget's
websocket pushes it on ``message.created``, and a visitor who is away finds it in
their history when they come back.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

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
from onethread.conversations.models import DeliveryStatus
from onethread.inboxes.channel_config import ChannelConfig
from onethread.inboxes.models import ChannelKind

NO_WEBHOOK = "the web chat has no webhook; use the widget API"


class WebchatAdapter:
    kind: ClassVar[ChannelKind] = ChannelKind.WEBCHAT
    max_text_length: ClassVar[int | None] = None
    limit_in_bytes: ClassVar[bool] = False
    supports_buttons: ClassVar[bool] = True
    window: ClassVar[ReplyWindow | None] = None

    def verify(self, config: ChannelConfig, request: WebhookRequest) -> None:
        raise PayloadInvalid(NO_WEBHOOK)

    def handshake(self, config: ChannelConfig, request: WebhookRequest) -> str | None:
        return None

    def parse(self, config: ChannelConfig, request: WebhookRequest) -> list[WebhookItem]:
        raise PayloadInvalid(NO_WEBHOOK)

    def acknowledgement(self) -> tuple[bytes, str]:
        return b"", "text/plain"

    async def send(
        self, config: ChannelConfig, outbound: Outbound, http: httpx.AsyncClient
    ) -> DeliveryReceipt:
        return DeliveryReceipt(
            external_id=f"webchat-{outbound.message_id}", status=DeliveryStatus.SENT
        )

    async def fetch_media(
        self, config: ChannelConfig, attachment: dict[str, Any], http: httpx.AsyncClient
    ) -> MediaFile:
        raise SendFailed(
            "the web chat has no provider to fetch media from",
            code="webchat_no_media",
            transient=False,
            http_status=None,
        )
