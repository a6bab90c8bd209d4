"""How a sender is known, and the normal forms that let two channels' identities meet."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_NOT_DIGITS = re.compile(r"[^\d]")


def normalize_phone(raw: str | None) -> str | None:
    """E.164 with a leading '+': WhatsApp's "15551234567" and SMS's "+1 555…" meet."""
    if not raw:
        return None
    raw = raw.strip().removeprefix("whatsapp:")
    digits = _NOT_DIGITS.sub("", raw)
    if raw.startswith("00"):
        digits = digits[2:]
    return "+" + digits if 6 <= len(digits) <= 15 else None


def normalize_email(raw: str | None) -> str | None:
    if not raw or "@" not in raw:
        return None
    return raw.strip().lower()


@dataclass
class SenderIdentity:
    """A sender as a channel reports it. Only ``verified`` phones and emails link contacts."""

    channel: str
    external_id: str
    display_name: str | None = None
    phone: str | None = None
    email: str | None = None
    verified: bool = False
    details: dict[str, Any] = field(default_factory=dict)
