"""Phone calls through Twilio Programmable Voice: webhooks in, TwiML out.

REFERENCE.md §5.2. The webhooks of one call are told apart by the ``event`` query
parameter of the URL we gave Twilio (the voice flow builds them):

- none (or ``event=start``): the number's voice URL, a call starts → ``CallStarted``;
- ``event=speech&turn=N``: the ``<Gather>`` action, what the caller said → ``SpeechHeard``;
- ``event=status``: the call's status callback → ``CallEnded``;
- ``event=dial``: the ``<Dial>`` action, a transfer to a human is over → ``TransferEnded``;
- ``event=wait&turn=N&waited=K``: our ``<Redirect>`` after a holding line → ``ReplyAwaited``.

URLs configured by hand carry no ``event``: then the fields present decide.

The caller is known only by caller ID, which anyone can spoof: the identity is never
``verified``, so a call never links to a contact by phone. Twilio waits about 15 s for
TwiML: a slow turn answers ``hold()`` at once and the reply comes on the redirect.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from onethread.channels import twilio
from onethread.channels.base import (
    DeliveryReceipt,
    Ignored,
    MediaFile,
    Outbound,
    PayloadInvalid,
    ReplyWindow,
    SendFailed,
    WebhookItem,
    WebhookRequest,
)
from onethread.contacts.identity import SenderIdentity, normalize_phone
from onethread.conversations.inbound import InboundMessage
from onethread.inboxes.channel_config import ChannelConfig
from onethread.inboxes.models import IDENTITY_CHANNEL, ChannelKind

ENDED_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
GOODBYE = "Sorry, I didn't catch that. Goodbye."
MAX_HINTS, MAX_HINT_LENGTH = 500, 100
# Characters XML 1.0 cannot carry at all, even escaped (a model's reply may hold some).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class CallStarted:
    call_sid: str
    caller: SenderIdentity
    to: str


@dataclass
class SpeechHeard:
    """One caller turn; ``text`` is empty when Twilio heard nothing."""

    call_sid: str
    caller: SenderIdentity
    text: str
    confidence: float | None
    turn: int

    def as_inbound(self) -> InboundMessage:
        """The turn as a thread message, unique per call and turn (§5.4)."""
        return InboundMessage(
            sender=self.caller, text=self.text, external_id=f"{self.call_sid}:{self.turn}"
        )


@dataclass
class CallEnded:
    call_sid: str
    status: str
    duration_seconds: int | None


@dataclass
class TransferEnded:
    """The ``<Dial>`` is over: answered and hung up, or busy / no-answer / failed."""

    call_sid: str
    dial_status: str
    duration_seconds: int | None


@dataclass
class ReplyAwaited:
    """Our own ``<Redirect>`` after a holding line: is the reply to ``turn`` ready now?"""

    call_sid: str
    caller: SenderIdentity
    turn: int
    waited: int


CallEvent = CallStarted | SpeechHeard | ReplyAwaited | CallEnded | TransferEnded | Ignored


class TwilioVoiceAdapter:
    kind: ClassVar[ChannelKind] = ChannelKind.TWILIO_VOICE
    max_text_length: ClassVar[int | None] = None
    limit_in_bytes: ClassVar[bool] = False
    supports_buttons: ClassVar[bool] = False
    window: ClassVar[ReplyWindow | None] = None

    def verify(self, config: ChannelConfig, request: WebhookRequest) -> None:
        twilio.verify_signature(twilio.twilio_config(config), request)

    def handshake(self, config: ChannelConfig, request: WebhookRequest) -> str | None:
        return None

    def parse(self, config: ChannelConfig, request: WebhookRequest) -> list[WebhookItem]:
        """What the generic ingest can store: the caller's words; the rest of a call is
        the voice flow's (``channels/voice.py`` reads ``parse_call`` itself)."""
        event = parse_call(request)
        if isinstance(event, SpeechHeard) and event.text:
            return [event.as_inbound()]
        if isinstance(event, Ignored):
            return [event]
        return [Ignored(f"call:{type(event).__name__}", event.call_sid)]

    def acknowledgement(self) -> tuple[bytes, str]:
        return twilio.EMPTY_TWIML, twilio.TWIML_MEDIA_TYPE

    async def send(
        self, config: ChannelConfig, outbound: Outbound, http: httpx.AsyncClient
    ) -> DeliveryReceipt:
        raise SendFailed(
            "voice replies are spoken on the call, not sent",
            code="voice_spoken",
            transient=False,
            http_status=None,
        )

    async def fetch_media(
        self, config: ChannelConfig, attachment: dict[str, Any], http: httpx.AsyncClient
    ) -> MediaFile:
        raise SendFailed(
            "a call has no media attachments to fetch",
            code="voice_no_media",
            transient=False,
            http_status=None,
        )


# --- webhooks ----------------------------------------------------------------------------


def parse_call(request: WebhookRequest) -> CallEvent:
    fields = twilio.first_values(request.form())
    call_sid = fields.get("CallSid")
    if not call_sid:
        raise PayloadInvalid("a Twilio voice webhook needs a CallSid")
    event = request.query.get("event") or _event_from_fields(fields)
    if event == "start":
        return CallStarted(call_sid, caller_identity(fields), to=fields.get("To", ""))
    if event == "speech":
        return SpeechHeard(
            call_sid,
            caller_identity(fields),
            text=fields.get("SpeechResult", "").strip(),
            confidence=_confidence(fields.get("Confidence")),
            turn=_turn(request.query.get("turn")),
        )
    if event == "wait":
        return ReplyAwaited(
            call_sid,
            caller_identity(fields),
            turn=_turn(request.query.get("turn")),
            waited=_turn(request.query.get("waited")),
        )
    if event == "status":
        status = fields.get("CallStatus", "").lower()
        if status not in ENDED_STATUSES:
            return Ignored(kind=f"call_{status or 'unknown'}", external_id=call_sid)
        return CallEnded(call_sid, status, _seconds(fields.get("CallDuration")))
    if event == "dial":
        dial_status = fields.get("DialCallStatus", "").lower() or "unknown"
        return TransferEnded(call_sid, dial_status, _seconds(fields.get("DialCallDuration")))
    raise PayloadInvalid(f"unknown voice event {event!r}: expected speech, status or dial")


def _event_from_fields(fields: Mapping[str, str]) -> str:
    if "SpeechResult" in fields:
        return "speech"
    if "DialCallStatus" in fields:
        return "dial"
    if fields.get("CallStatus", "").lower() in ENDED_STATUSES:
        return "status"
    return "start"


def caller_identity(fields: Mapping[str, str]) -> SenderIdentity:
    """Who is calling, by caller ID; a withheld one ("anonymous") is known by the call."""
    raw = fields.get("From", "").strip()
    if not raw:
        raise PayloadInvalid("a Twilio voice webhook needs a From caller ID")
    phone = normalize_phone(raw)
    return SenderIdentity(
        channel=IDENTITY_CHANNEL[ChannelKind.TWILIO_VOICE],
        external_id=phone or f"call:{fields['CallSid']}",
        display_name=fields.get("CallerName") or None,
        phone=phone,
        verified=False,  # caller ID is spoofable
        details={} if phone else {"caller_id": raw},
    )


def _confidence(raw: str | None) -> float | None:
    """Twilio does not promise ``Confidence`` (§5.2): missing, empty or odd is unknown."""
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and 0.0 <= value <= 1.0 else None


def _turn(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not (raw.isascii() and raw.isdigit()):
        raise PayloadInvalid(f"the turn query parameter must be a number, not {raw!r}")
    return int(raw)


def _seconds(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdigit() else None


# --- TwiML (§5.2; verbs and attributes are case-sensitive) -------------------------------


def _document(*verbs: ET.Element) -> bytes:
    response = ET.Element("Response")
    response.extend(verbs)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(
        response, encoding="unicode"
    ).encode("utf-8")


def _say(text: str, language: str | None) -> list[ET.Element]:
    """A ``<Say>``, or nothing for empty text (an empty ``<Say>`` is an error)."""
    text = _NOT_XML.sub("", text).strip()
    if not text:
        return []
    say = ET.Element("Say", {"language": language} if language else {})
    say.text = text
    return [say]


def _redirect(url: str) -> ET.Element:
    redirect = ET.Element("Redirect", method="POST")
    redirect.text = url
    return redirect


def gather(
    say: str,
    *,
    action_url: str,
    language: str,
    hints: Iterable[str] | None = None,
    goodbye: str = GOODBYE,
    fallback_url: str | None = None,
) -> bytes:
    """Speak, then listen; what was heard is posted to ``action_url``.

    If the caller says nothing, ``goodbye`` is spoken and the call ends, or goes on at
    ``fallback_url`` when one is given.
    """
    attributes = {
        "input": "speech",
        "action": action_url,
        "method": "POST",
        "language": language,
        "speechTimeout": "auto",  # never with an explicit speechModel (§5.2)
    }
    kept = [hint.strip() for hint in hints or () if 0 < len(hint.strip()) <= MAX_HINT_LENGTH]
    if kept:
        attributes["hints"] = ", ".join(kept[:MAX_HINTS])
    listen = ET.Element("Gather", attributes)
    listen.extend(_say(say, language))
    after = [*_say(goodbye, language)]
    if fallback_url:
        after.append(_redirect(fallback_url))
    return _document(listen, *after)


def hold(say: str, redirect_url: str, *, language: str | None = None) -> bytes:
    """Keep the caller company while the reply is prepared, then fetch it."""
    pause = ET.Element("Pause", length="1")
    return _document(*_say(say, language), pause, _redirect(redirect_url))


def dial(
    say: str,
    number: str,
    action_url: str | None,
    *,
    language: str | None = None,
    timeout_seconds: int = 25,
) -> bytes:
    """Transfer the caller to ``number``; ``action_url`` hears how the transfer ended."""
    attributes = {"timeout": str(timeout_seconds)}
    if action_url:
        attributes = {"action": action_url, "method": "POST", **attributes}
    transfer = ET.Element("Dial", attributes)
    ET.SubElement(transfer, "Number").text = number
    return _document(*_say(say, language), transfer)


def hangup(say: str, *, language: str | None = None) -> bytes:
    return _document(*_say(say, language), ET.Element("Hangup"))
