"""Which adapter serves which channel kind: the one table to extend with a new channel.

Adapters load on first use, so a deployment imports only the channels it runs.
"""

from __future__ import annotations

import importlib

from onethread.channels.base import ChannelAdapter
from onethread.errors import NotFound
from onethread.inboxes.models import ChannelKind

ADAPTER_CLASSES: dict[ChannelKind, str] = {
    ChannelKind.WHATSAPP: "onethread.channels.whatsapp:WhatsAppAdapter",
    ChannelKind.INSTAGRAM: "onethread.channels.instagram:InstagramAdapter",
    ChannelKind.MESSENGER: "onethread.channels.messenger:MessengerAdapter",
    ChannelKind.TWILIO_SMS: "onethread.channels.twilio_messaging:TwilioSmsAdapter",
    ChannelKind.TWILIO_WHATSAPP: "onethread.channels.twilio_messaging:TwilioWhatsAppAdapter",
    ChannelKind.TWILIO_VOICE: "onethread.channels.twilio_voice:TwilioVoiceAdapter",
    ChannelKind.WEBCHAT: "onethread.channels.webchat:WebchatAdapter",
}

_loaded: dict[ChannelKind, ChannelAdapter] = {}


def adapter_for(kind: str | ChannelKind) -> ChannelAdapter:
    try:
        channel = ChannelKind(kind)
    except ValueError as exc:
        raise NotFound(f"no channel {kind!r}") from exc
    adapter = _loaded.get(channel)
    if adapter is None:
        module_name, class_name = ADAPTER_CLASSES[channel].split(":")
        adapter = getattr(importlib.import_module(module_name), class_name)()
        _loaded[channel] = adapter
    return adapter
