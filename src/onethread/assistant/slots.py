"""Slots: the structured values a customer's message carries (order numbers, emails…).

Pattern-based on purpose: an order number is a string of a known shape, and a
deterministic extractor is testable and never invents one. What a slot is used for is
the action's business; a slot never says *whose* order it is (see docs/actions.md).
"""

from __future__ import annotations

import re
from datetime import date

from onethread.playbook.schemas import SlotKind

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
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<![\w+])\+\d[\d\s().-]{7,16}\d\b")
_ISO_DATE = re.compile(r"\b(20\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan", "janvier", "enero", "januar", "janeiro"),
            ("february", "feb", "février", "fevrier", "febrero", "februar", "fevereiro"),
            ("march", "mar", "mars", "marzo", "märz", "marz", "março", "marco"),
            ("april", "apr", "avril", "abril"),
            ("may", "mai", "mayo", "maio"),
            ("june", "jun", "juin", "junio", "juni", "junho"),
            ("july", "jul", "juillet", "julio", "juli", "julho"),
            ("august", "aug", "août", "aout", "agosto"),
            ("september", "sep", "sept", "septembre", "septiembre", "setembro"),
            ("october", "oct", "octobre", "octubre", "oktober", "outubro"),
            ("november", "nov", "novembre", "noviembre", "novembro"),
            ("december", "dec", "décembre", "decembre", "diciembre", "dezember", "dezembro"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_NAMES = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|er)?\s+(?:of\s+|de\s+)?({_MONTH_NAMES})\.?(?:\s+(20\d\d))?\b",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(
    rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(20\d\d))?\b", re.IGNORECASE
)
_AMOUNT = re.compile(
    r"(?:[$€£]\s?\d+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?\s?(?:[$€£]|usd|eur|gbp|dollars?|euros?))",
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


def _date(text: str, today: date) -> str | None:
    if match := _ISO_DATE.search(text):
        return match.group(0)
    found: tuple[int, int, int | None] | None = None
    if match := _DAY_MONTH.search(text):
        found = (int(match.group(1)), _MONTHS[match.group(2).lower()], _year(match.group(3)))
    elif match := _MONTH_DAY.search(text):
        found = (int(match.group(2)), _MONTHS[match.group(1).lower()], _year(match.group(3)))
    if found is None:
        return None
    day, month, year = found
    try:
        return date(year or today.year, month, day).isoformat()
    except ValueError:
        return None


def _year(value: str | None) -> int | None:
    return int(value) if value else None


def _amount(text: str) -> str | None:
    match = _AMOUNT.search(text)
    if match is None:
        return None
    number = re.search(r"\d+(?:[.,]\d{1,2})?", match.group(0))
    assert number is not None
    return f"{float(number.group(0).replace(',', '.')):.2f}"


def _phone(text: str) -> str | None:
    match = _PHONE.search(text)
    return "+" + re.sub(r"\D", "", match.group(0)) if match else None


def _email(text: str) -> str | None:
    match = _EMAIL.search(text)
    return match.group(0).lower() if match else None


def extract_slots(text: str, *, today: date | None = None) -> dict[SlotKind, str]:
    """Every slot found in ``text``, normalised (``ORD-1234``, ISO dates, ``12.50``)."""
    today = today or date.today()
    found: dict[SlotKind, str | None] = {
        SlotKind.ORDER_NUMBER: _order(text),
        SlotKind.INVOICE_NUMBER: _invoice(text),
        SlotKind.EMAIL: _email(text),
        SlotKind.PHONE: _phone(text),
        SlotKind.DATE: _date(text, today),
        SlotKind.AMOUNT: _amount(text),
    }
    return {kind: value for kind, value in found.items() if value is not None}
