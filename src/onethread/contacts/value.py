"""Customer value: the business attributes a contact carries, their schema and stored form.

They live in ``Contact.attributes`` under exactly these keys and forms, which the reports'
projection copies on each ``contact.*`` event (docs/contacts.md, "Customer value"):

- ``customer_since``, ``churned_at``: ISO dates, ``"YYYY-MM-DD"`` strings;
- ``plan``: a string;
- ``monthly_revenue``, ``lifetime_revenue``: JSON numbers ≥ 0, in the workspace's currency;
- ``vip``: JSON ``true`` or ``false``.

A ``None`` value removes the attribute (a contact who is not churned has no
``churned_at``). Every other attribute is the business's own and stays free-form. The API,
the CSV import and actions all validate through ``stored_value`` and ``check_dates``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from onethread.errors import InvalidInput

CUSTOMER_SINCE = "customer_since"
PLAN = "plan"
MONTHLY_REVENUE = "monthly_revenue"
LIFETIME_REVENUE = "lifetime_revenue"
CHURNED_AT = "churned_at"
VIP = "vip"
VALUE_ATTRIBUTES = (CUSTOMER_SINCE, PLAN, MONTHLY_REVENUE, LIFETIME_REVENUE, CHURNED_AT, VIP)

MAX_PLAN_LENGTH = 100
MAX_AMOUNT = Decimal(10) ** 12
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


def stored_value(name: str, raw: Any) -> Any:
    """The stored form of business attribute ``name``; ``ValueError`` says what is wrong."""
    if name in (CUSTOMER_SINCE, CHURNED_AT):
        return _date(raw).isoformat()
    if name in (MONTHLY_REVENUE, LIFETIME_REVENUE):
        return _amount(raw)
    if name == PLAN:
        return _plan(raw)
    if name == VIP:
        return _flag(raw)
    raise ValueError(f"{name} is not a customer value attribute")


def validated_attributes(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` with business attributes in stored form, checked against ``current``.

    Raises ``InvalidInput`` whose ``details.field`` names the attribute (``attributes.plan``).
    Only the attributes being changed are checked: an old value stays as it was."""
    result: dict[str, Any] = {}
    for name, raw in changes.items():
        if name in VALUE_ATTRIBUTES and raw is not None:
            try:
                result[name] = stored_value(name, raw)
            except ValueError as exc:
                raise _invalid(name, str(exc)) from exc
        else:
            result[name] = raw
    if CUSTOMER_SINCE in changes or CHURNED_AT in changes:
        problem = check_dates({**current, **result})
        if problem is not None:
            raise _invalid(CHURNED_AT, problem)
    return result


def check_dates(attributes: Mapping[str, Any]) -> str | None:
    """Why these attributes are inconsistent (churned before becoming a customer), or None."""
    since = _stored_date(attributes.get(CUSTOMER_SINCE))
    churned = _stored_date(attributes.get(CHURNED_AT))
    if since is not None and churned is not None and churned < since:
        return f"churned_at {churned} is before customer_since {since}"
    return None


def _invalid(name: str, reason: str) -> InvalidInput:
    field = f"attributes.{name}"
    return InvalidInput(f"{field}: {reason}", details={"field": field, "reason": reason})


def _date(raw: Any) -> date:
    if isinstance(raw, date):
        return raw
    text = raw.strip() if isinstance(raw, str) else None
    if text is None or not _ISO_DATE.match(text):
        raise ValueError(f"{raw!r} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text} is not a date that exists") from exc


def _stored_date(value: Any) -> date | None:
    """A date already stored, or None for anything else (an old free-form value)."""
    try:
        return _date(value)
    except ValueError:
        return None


def _amount(raw: Any) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal | str):
        raise ValueError(f"{raw!r} is not an amount")
    try:
        amount = Decimal(raw.strip() if isinstance(raw, str) else str(raw))
    except InvalidOperation as exc:
        raise ValueError(f"{raw!r} is not an amount") from exc
    if not amount.is_finite():
        raise ValueError(f"{raw!r} is not an amount")
    if amount < 0:
        raise ValueError(f"{raw} is negative")
    if amount >= MAX_AMOUNT:
        raise ValueError(f"{raw} is too large")
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _plan(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"{raw!r} is not a plan name")
    if len(raw.strip()) > MAX_PLAN_LENGTH:
        raise ValueError(f"a plan name is at most {MAX_PLAN_LENGTH} characters")
    return raw.strip()


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise ValueError(f"{raw!r} is not true or false")


def changed_keys(current: Mapping[str, Any], changes: Mapping[str, Any]) -> list[str]:
    """The keys whose value ``changes`` really changes (a None removes; absent is None)."""
    return sorted(key for key, value in changes.items() if current.get(key) != value)
