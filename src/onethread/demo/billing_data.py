"""The demo billing system's records: customers, invoices, charges, orders, subscriptions.

Fixed data, the same on every run, as of ``AS_OF``. Each demo contact carries its
``customer_id`` as a business attribute (``contact_attributes``), the way a real business
links its CRM or billing ids to onethread contacts. Dana Whitfield was charged twice for
invoice INV-2026-1107; Sarah O'Connor's October invoice is INV-2026-1031.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

AS_OF = date(2026, 11, 26)
CURRENCY = "USD"
PLAN_PRICES = {"Starter": "29.00", "Team": "99.00", "Business": "249.00"}
PLAN_SEATS = {"Starter": 3, "Team": 10, "Business": 25}
ANNUAL_MONTHS_BILLED = 10  # annual billing: twelve months for the price of ten
PDF_BASE = "https://billing.lumen-analytics.com/invoices"


@dataclass(frozen=True)
class BillingCustomer:
    id: str
    contact_name: str  # the demo script's customer
    company: str
    plan: str
    billing_day: int
    card: str
    cancel_at: date | None = None  # cancellation scheduled at the end of a period
    canceled_on: date | None = None  # cancelled: no renewal, no new invoices after it


CUSTOMERS = [
    BillingCustomer("cus_NW1042", "Dana Whitfield", "Northwind Retail", "Business", 7, "4242"),
    BillingCustomer("cus_FL2211", "Priya Nair", "Fernleaf", "Team", 2, "1881"),
    BillingCustomer("cus_MR3307", "Marco Rossi", "Rossi Studio", "Starter", 20, "0005"),
    BillingCustomer("cus_BB4410", "Tom Becker", "Becker Bau", "Business", 9, "3220"),
    BillingCustomer(
        "cus_AT5520", "Aiko Tanaka", "Tanaka Design", "Team", 1, "5100", date(2026, 11, 30)
    ),
    BillingCustomer("cus_LG6631", "Luis García", "García Consultores", "Starter", 12, "7731"),
    BillingCustomer("cus_SO7702", "Sarah O'Connor", "O'Connor Logistics", "Business", 31, "9012"),
    BillingCustomer(
        "cus_KM8815",
        "Kwame Mensah",
        "Asante & Co",
        "Team",
        15,
        "6604",
        canceled_on=date(2026, 10, 31),
    ),
]

DOUBLE_CHARGED = ("cus_NW1042", "INV-2026-1107")

# order number, customer, item, quantity, unit price, status, ordered, shipped, delivered
_ORDERS = [
    ("ORD-10388", "cus_NW1042", "Dashboard display stick", 2, "39.00", "delivered", 10, 14, 18),
    ("ORD-10421", "cus_NW1042", "Hardware security key", 5, "25.00", "shipped", 19, 24, None),
    ("ORD-10455", "cus_FL2211", "Hardware security key", 3, "25.00", "pending", 24, None, None),
    ("ORD-10302", "cus_BB4410", "Dashboard display stick", 1, "39.00", "delivered", 2, 4, 9),
    ("ORD-10399", "cus_SO7702", "Dashboard display stick", 4, "39.00", "shipped", 17, 23, None),
    ("ORD-10460", "cus_LG6631", "Hardware security key", 1, "25.00", "pending", 25, None, None),
]
CARRIER = "UPS"
DELIVERY_DAYS = 6  # estimated delivery: ordered + 6 days, or shipped + 4


@dataclass
class BillingData:
    customers: dict[str, BillingCustomer]
    invoices: dict[str, list[dict[str, Any]]]  # customer id -> newest first
    charges: dict[str, list[dict[str, Any]]]
    orders: dict[str, dict[str, Any]]  # order number -> order
    refund_requests: dict[str, dict[str, Any]] = field(default_factory=dict)  # by charge id


def contact_attributes(contact_name: str) -> dict[str, str]:
    """The business attributes linking a demo contact to its billing customer."""
    for customer in CUSTOMERS:
        if customer.contact_name == contact_name:
            return {"customer_id": customer.id}
    return {}


def build_billing_data() -> BillingData:
    invoices: dict[str, list[dict[str, Any]]] = {}
    charges: dict[str, list[dict[str, Any]]] = {}
    for customer in CUSTOMERS:
        invoices[customer.id] = [_invoice(customer, day) for day in _billing_dates(customer)]
        charges[customer.id] = [
            charge for invoice in invoices[customer.id] for charge in _charges(customer, invoice)
        ]
    orders = {row[0]: _order(*row) for row in _ORDERS}
    return BillingData({c.id: c for c in CUSTOMERS}, invoices, charges, orders)


def subscription(customer: BillingCustomer) -> dict[str, Any]:
    last = _billing_dates(customer)[0]
    period_end = _add_month(last, customer.billing_day) - timedelta(days=1)
    if customer.canceled_on is not None:
        status, renews_on = "canceled", None
    else:
        status = "active"
        renews_on = None if customer.cancel_at else _add_month(last, customer.billing_day)
    return {
        "customer_id": customer.id,
        "company": customer.company,
        "plan": customer.plan,
        "seats": PLAN_SEATS[customer.plan],
        "price": PLAN_PRICES[customer.plan],
        "currency": CURRENCY,
        "interval": "month",
        "status": status,
        "current_period_start": last.isoformat(),
        "current_period_end": period_end.isoformat(),
        "renews_on": renews_on.isoformat() if renews_on else None,
        "cancel_at": customer.cancel_at.isoformat() if customer.cancel_at else None,
        "canceled_on": customer.canceled_on.isoformat() if customer.canceled_on else None,
    }


def plans() -> list[dict[str, Any]]:
    """The price list: monthly price, and the annual price (ten months for twelve)."""
    return [
        {
            "plan": plan,
            "seats": PLAN_SEATS[plan],
            "currency": CURRENCY,
            "monthly_price": price,
            "annual_price": f"{float(price) * ANNUAL_MONTHS_BILLED:.2f}",
        }
        for plan, price in PLAN_PRICES.items()
    ]


def _billing_dates(customer: BillingCustomer) -> list[date]:
    """The last three billing dates on or before AS_OF (or the cancellation), newest first."""
    until = customer.canceled_on or AS_OF
    year, month = until.year, until.month
    found: list[date] = []
    while len(found) < 3:
        day = _on_day(year, month, customer.billing_day)
        if day <= until:
            found.append(day)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


def _on_day(year: int, month: int, billing_day: int) -> date:
    return date(year, month, min(billing_day, calendar.monthrange(year, month)[1]))


def _add_month(day: date, billing_day: int) -> date:
    year, month = (day.year, day.month + 1) if day.month < 12 else (day.year + 1, 1)
    return _on_day(year, month, billing_day)


def _invoice(customer: BillingCustomer, issued: date) -> dict[str, Any]:
    number = f"INV-{issued.year}-{issued.month:02d}{issued.day:02d}"
    period_end = _add_month(issued, customer.billing_day) - timedelta(days=1)
    return {
        "number": number,
        "customer_id": customer.id,
        "plan": customer.plan,
        "amount": PLAN_PRICES[customer.plan],
        "currency": CURRENCY,
        "issued_on": issued.isoformat(),
        "period_start": issued.isoformat(),
        "period_end": period_end.isoformat(),
        "status": "paid",
        "paid_on": issued.isoformat(),
        "pdf_url": f"{PDF_BASE}/{number}.pdf",
    }


def _charges(customer: BillingCustomer, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    times = 2 if (customer.id, invoice["number"]) == DOUBLE_CHARGED else 1
    issued = invoice["issued_on"]
    return [
        {
            "id": f"ch_{customer.id.removeprefix('cus_')}_{issued.replace('-', '')}_{n}",
            "invoice": invoice["number"],
            "amount": invoice["amount"],
            "currency": CURRENCY,
            "created_on": issued,
            "created_at": f"{issued}T09:14:{5 + 36 * (n - 1):02d}Z",
            "status": "succeeded",
            "card_last4": customer.card,
        }
        for n in range(1, times + 1)
    ][::-1]  # newest first


def _order(
    number: str,
    customer_id: str,
    item: str,
    quantity: int,
    unit_price: str,
    status: str,
    ordered: int,
    shipped: int | None,
    delivered: int | None,
) -> dict[str, Any]:
    def in_november(day: int | None) -> str | None:
        return date(2026, 11, day).isoformat() if day else None

    ordered_on = date(2026, 11, ordered)
    estimate = (
        date(2026, 11, shipped) + timedelta(days=4)
        if shipped
        else ordered_on + timedelta(days=DELIVERY_DAYS)
    )
    return {
        "order_number": number,
        "customer_id": customer_id,
        "item": item,
        "quantity": quantity,
        "unit_price": unit_price,
        "total": f"{float(unit_price) * quantity:.2f}",
        "currency": CURRENCY,
        "status": status,
        "ordered_on": ordered_on.isoformat(),
        "shipped_on": in_november(shipped),
        "delivered_on": in_november(delivered),
        "carrier": CARRIER if shipped else None,
        "tracking_number": f"1Z{number.removeprefix('ORD-')}US0{ordered:02d}" if shipped else None,
        "estimated_delivery": None if delivered else estimate.isoformat(),
    }
