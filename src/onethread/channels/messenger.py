"""Facebook Messenger (REFERENCE.md §4): ``object: "page"``, PSIDs, sent as the Page."""

from __future__ import annotations

from typing import ClassVar

from onethread.channels.base import expect_config
from onethread.channels.meta_messaging import MetaMessagingAdapter
from onethread.inboxes.channel_config import ChannelConfig, MessengerConfig
from onethread.inboxes.models import ChannelKind


class MessengerAdapter(MetaMessagingAdapter):
    kind = ChannelKind.MESSENGER
    webhook_object = "page"
    max_text_length: ClassVar[int | None] = 2000  # characters
    limit_in_bytes = False

    def owner_id(self, config: ChannelConfig) -> str:
        return expect_config(config, MessengerConfig).page_id
