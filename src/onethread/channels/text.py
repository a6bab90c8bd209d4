"""Fitting text to a channel: splitting long replies, degrading buttons to plain text."""

from __future__ import annotations

import re
from typing import Any

_BREAKS = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?…])\s+"),
    re.compile(r"\s+"),
)


def _size(text: str, in_bytes: bool) -> int:
    return len(text.encode("utf-8")) if in_bytes else len(text)


def _hard_cut(text: str, limit: int, in_bytes: bool) -> int:
    """The longest prefix length (in characters) that fits."""
    if not in_bytes:
        return limit
    size = 0
    for index, char in enumerate(text):
        size += len(char.encode("utf-8"))
        if size > limit:
            return index
    return len(text)


def split_text(text: str, limit: int | None, *, in_bytes: bool = False) -> list[str]:
    """Parts that each fit ``limit``, cut at a paragraph, line, sentence or word if possible."""
    text = text.strip()
    if limit is None or _size(text, in_bytes) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while _size(rest, in_bytes) > limit:
        window = rest[: _hard_cut(rest, limit, in_bytes)]
        cut = 0
        for pattern in _BREAKS:
            ends = [match.start() for match in pattern.finditer(window) if match.start() > 0]
            if ends and ends[-1] >= len(window) // 3:
                cut = ends[-1]
                break
        if cut == 0:
            cut = len(window)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def buttons_as_text(text: str, interactive: dict[str, Any] | None) -> str:
    """Buttons for a channel without them: the same choices, numbered, to reply by text."""
    buttons = (interactive or {}).get("buttons") or []
    if not buttons:
        return text
    lines = [f"{number}. {button['title']}" for number, button in enumerate(buttons, start=1)]
    return text.rstrip() + "\n\n" + "\n".join(lines)
