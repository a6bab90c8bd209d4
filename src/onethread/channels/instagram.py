"""Instagram Messaging (REFERENCE.md §3): ``object: "instagram"``, IGSIDs, 1000-byte texts.

Works with both flavours of §3.1: ``api_base_url`` is ``https://graph.instagram.com/<v>``
(Instagram Login) or ``https://graph.facebook.com/<v>`` (a Page linked to the account);
either way messages are sent to ``/{account_id}/messages``.
"""

from __future__ import annotations

from typing import ClassVar

from onethread.channels.base import expect_config
from onethread.channels.meta_messaging import MetaMessagingAdapter
from onethread.inboxes.channel_config import ChannelConfig, InstagramConfig
from onethread.inboxes.models import ChannelKind


class InstagramAdapter(MetaMessagingAdapter):
    kind = ChannelKind.INSTAGRAM
    webhook_object = "instagram"
    # "UTF-8 and be a 1000 bytes or less" (§3.1).
    max_text_length: ClassVar[int | None] = 1000
    limit_in_bytes = True

    def owner_id(self, config: ChannelConfig) -> str:
        return expect_config(config, InstagramConfig).account_id
