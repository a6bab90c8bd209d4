"""Reading a survey score from the customer's reply: a button's id, or a number in text.

Conservative on purpose: a reply that is not clearly an answer stays an ordinary
message (it reopens the conversation). A number must stand alone, follow a known
lead-in ("I'd say 8", "je dirais 7", "le doy un 9") and be followed by nothing, a
scale ("4/5", "8 out of 10"), a unit ("5 stars", "5 ⭐") or a separator before the
comment ("4 - slow but solved"), so "2 questions about my bill" is not a CSAT of 2.
Digits, the words zero..ten in English, French and Spanish, and (CSAT) filled stars.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from onethread.surveys.models import SCALES, SurveyKind


@dataclass(frozen=True)
class Answer:
    score: int
    comment: str | None


NUMBER_WORDS: dict[str, int] = {
    **{"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5},
    **{"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10},
    **{"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5},
    **{"sept": 7, "huit": 8, "neuf": 9, "dix": 10},
    **{"cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5},
    **{"seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10},
}

# Matched on folded text: lower case, accents and emoji variation selectors removed.
_LEAD_INS = (
    r"i'?d say",
    r"i would say",
    r"i say",
    r"(?:i'?d|i would|i'?ll|i) give(?: (?:it|you|this|that|you guys))?",
    r"(?:my )?(?:rating|score|answer|note)(?: is)?",
    r"it'?s",
    r"maybe",
    r"probably",
    r"definitely",
    r"easily",
    r"je dirais",
    r"je dirai",
    r"disons",
    r"je (?:vous |te |lui )?(?:donne|mets)",
    r"ma note(?: est)?",
    r"peut-etre",
    r"c'est",
    r"(?:yo )?diria(?: que)?",
    r"(?:le |les |te )?(?:doy|pongo|daria|pondria)",
    r"mi (?:nota|puntuacion)(?: es)?",
    r"quizas?",
    r"tal vez",
)
# Spaces in the lead-ins match any run of spaces (and survive the verbose pattern).
_LEADS = "|".join(lead.replace(" ", r"\s+") for lead in _LEAD_INS)
_STAR = "[⭐★]"
_WORDS = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_ANSWER = re.compile(
    rf"""^\s*
    (?:(?:{_LEADS})[\s:=,]+)?
    (?:(?:an?|un|une|una)\s+)?
    (?:
        (?P<digits>\d{{1,2}})(?!\d)(?![.,]\d)
      | (?P<word>{_WORDS})\b
      | (?P<stars>{_STAR}(?:\s*{_STAR}){{0,4}})
    )
    (?:\s*(?:/|out\ of|of|sur|de)\s*(?P<scale>\d{{1,2}})(?!\d))?
    (?P<unit>\s*(?:(?:stars?|etoiles?|estrellas?|points?|puntos?)\b|{_STAR}+))?
    """,
    re.VERBOSE,
)
# What may follow a bare number before the comment: punctuation, a spaced dash, a new line.
_DASHES = "-\u2013\u2014"  # hyphen, en dash, em dash
_SEPARATOR = re.compile(rf"\s*[,.;:!?)]|\s*[{_DASHES}]\s|\s+[{_DASHES}]|\s*\n")
_BUTTON = re.compile(r"^survey:(csat|nps):(\d{1,2})$")
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018`\u00b4", "'"))
_LEADING_NOISE = f" \t\r\n{_DASHES}:,.;!?)"


def button_id(kind: SurveyKind, score: int) -> str:
    """The id a survey button carries back (WhatsApp reply id, Meta quick-reply payload)."""
    return f"survey:{kind.value}:{score}"


def in_scale(kind: SurveyKind, score: int) -> bool:
    low, high = SCALES[kind]
    return low <= score <= high


def parse_answer(
    kind: SurveyKind, text: str, interactive: dict[str, Any] | None = None
) -> Answer | None:
    """The score (and comment) in a reply to a ``kind`` question; None if it is not one."""
    chosen = _from_button(kind, interactive)
    if chosen is not None:
        return Answer(chosen, None)
    return _from_text(kind, text)


def _from_button(kind: SurveyKind, interactive: dict[str, Any] | None) -> int | None:
    for key in ("id", "payload"):
        found = _BUTTON.match(str((interactive or {}).get(key) or ""))
        if found and found.group(1) == kind.value and in_scale(kind, int(found.group(2))):
            return int(found.group(2))
    return None


def _fold(text: str) -> tuple[str, list[int]]:
    """Lower case without accents, and for each folded character its index in ``text``."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text.translate(_APOSTROPHES)):
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.category(part) == "Mn":  # accents, emoji variation selectors
                continue
            for lower in part.lower():
                chars.append(lower)
                origin.append(index)
    origin.append(len(text))
    return "".join(chars), origin


def _from_text(kind: SurveyKind, text: str) -> Answer | None:
    folded, origin = _fold(text)
    found = _ANSWER.match(folded)
    if found is None:
        return None
    if found.group("stars") is not None:
        if kind is not SurveyKind.CSAT:
            return None
        score = len(re.findall(_STAR, found.group("stars")))
    elif found.group("digits") is not None:
        score = int(found.group("digits"))
    else:
        score = NUMBER_WORDS[found.group("word")]
    if not in_scale(kind, score):
        return None
    scale = found.group("scale")
    if scale is not None and int(scale) != SCALES[kind][1]:
        return None
    rest = folded[found.end() :]
    qualified = scale is not None or found.group("unit") or found.group("stars")
    if rest.strip() and not (qualified and rest[0].isspace()) and not _SEPARATOR.match(rest):
        return None
    comment = text[origin[found.end()] :].lstrip(_LEADING_NOISE).strip()
    return Answer(score, comment if any(char.isalnum() for char in comment) else None)
