"""Slots: the structured values a customer's message carries (order numbers, emails…).

Pattern-based on purpose: an order number is a string of a known shape, and a
deterministic extractor is testable and never invents one. What a slot is used for is
the action's business; a slot never says *whose* order it is (see docs/actions.md).
"""

from __future__ import annotations

import re
from datetime import date

from onethread.assistant.grounding.dates import parse_candidate
from onethread.assistant.grounding.extract import extract_facts
from onethread.assistant.grounding.fact import Fact
from onethread.playbook.schemas import SlotKind

# Slots read by the grounding check's fact finders (one reading of dates, money, emails
# and phones for the whole assistant); order and invoice numbers are read below.
FACT_SLOTS = {
    "email": SlotKind.EMAIL,
    "phone": SlotKind.PHONE,
    "date": SlotKind.DATE,
    "money": SlotKind.AMOUNT,
}

_ORDER = re.compile(
    r"\b(?:ORD-?\d{3,10}|(?:order|commande|pedido|bestellung|encomenda)\s*"
    r"(?:n[o°º]\.?|number|num[ée]ro|nr\.?|#)?\s*#?\s*(\d{4,10}))\b",
    re.IGNORECASE,
)
_INVOICE = re.compile(
    r"\b(?:INV-?\d{3,10}|(?:invoice|facture|factura|rechnung|fatura)\s*"
    r"(?:n[o°º]\.?|number|num[ée]ro|nr\.?|#)?\s*#?\s*(\d{3,10}))\b",
    re.IGNORECASE,
)


def _order(text: str) -> str | None:
    match = _ORDER.search(text)
    if match is None:
        return None
    digits = match.group(1) or re.sub(r"\D", "", match.group(0))
    return f"ORD-{digits}"


def _invoice(text: str) -> str | None:
    match = _INVOICE.search(text)
    if match is None:
        return None
    digits = match.group(1) or re.sub(r"\D", "", match.group(0))
    return f"INV-{digits}"


def _date(fact: Fact, today: date) -> str | None:
    """An unambiguous day: ISO, with this year when the message leaves the year out."""
    if fact.ambiguous:
        return None  # "03/11/2026" in a language that does not say which: ask, don't guess
    (candidate,) = fact.candidates
    year, month, day = parse_candidate(candidate)
    if day is None:
        return None
    try:
        return date(year or today.year, month, day).isoformat()
    except ValueError:
        return None  # 29 February outside a leap year


def _amount(fact: Fact) -> str | None:
    if fact.ambiguous or fact.currency is None:
        return None
    (candidate,) = fact.candidates
    return f"{float(candidate.rpartition(' ')[2]):.2f}"


def extract_slots(text: str, *, today: date | None = None) -> dict[SlotKind, str]:
    """Every slot found in ``text``, normalised (``ORD-1234``, ISO dates, ``12.50``)."""
    today = today or date.today()
    found: dict[SlotKind, str | None] = {
        SlotKind.ORDER_NUMBER: _order(text),
        SlotKind.INVOICE_NUMBER: _invoice(text),
    }
    for fact in extract_facts(text):
        kind = FACT_SLOTS.get(fact.kind)
        if kind is None or found.get(kind) is not None:
            continue  # the first fact of a kind fills its slot
        if fact.kind == "date":
            found[kind] = _date(fact, today)
        elif fact.kind == "money":
            found[kind] = _amount(fact)
        else:
            found[kind] = fact.value
    return {kind: value for kind, value in found.items() if value is not None}
