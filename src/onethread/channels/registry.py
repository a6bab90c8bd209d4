"""Which adapter serves which channel kind: the one table to extend with a new channel.

Adapters are imported on first use, so a deployment loads only the channels it runs;
the imports are typed, so mypy checks every adapter against ``ChannelAdapter``.
"""

from __future__ import annotations

from onethread.channels.base import ChannelAdapter
from onethread.errors import NotFound
from onethread.inboxes.models import ChannelKind

_loaded: dict[ChannelKind, ChannelAdapter] = {}


def _adapter_class(kind: ChannelKind) -> type[ChannelAdapter]:
    if kind is ChannelKind.WHATSAPP:
        from onethread.channels.whatsapp import WhatsAppAdapter

        return WhatsAppAdapter
    if kind is ChannelKind.INSTAGRAM:
        from onethread.channels.instagram import InstagramAdapter

        return InstagramAdapter
    if kind is ChannelKind.MESSENGER:
        from onethread.channels.messenger import MessengerAdapter

        return MessengerAdapter
    if kind is ChannelKind.TWILIO_SMS:
        from onethread.channels.twilio_messaging import TwilioSmsAdapter

        return TwilioSmsAdapter
    if kind is ChannelKind.TWILIO_WHATSAPP:
        from onethread.channels.twilio_messaging import TwilioWhatsAppAdapter

        return TwilioWhatsAppAdapter
    if kind is ChannelKind.TWILIO_VOICE:
        from onethread.channels.twilio_voice import TwilioVoiceAdapter

        return TwilioVoiceAdapter
    from onethread.channels.webchat import WebchatAdapter

    return WebchatAdapter


def adapter_for(kind: str | ChannelKind) -> ChannelAdapter:
    try:
        channel = ChannelKind(kind)
    except ValueError as exc:
        raise NotFound(f"no channel {kind!r}") from exc
    adapter = _loaded.get(channel)
    if adapter is None:
        adapter = _loaded[channel] = _adapter_class(channel)()
    return adapter
