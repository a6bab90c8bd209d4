"""The demo company's own billing and orders API, which the demo playbook's actions call.

A stand-in for the business's systems, served over real HTTP by ``onethread demo``
(mounted at ``/demo-api/billing``, never in ``onethread serve``). Every route needs the
bearer token (a playbook secret) and every customer route is scoped by the customer id
in its path: an order or invoice of another customer is a plain 404, indistinguishable
from one that does not exist.
"""

from __future__ import annotations

import hmac
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from pydantic import BaseModel

from onethread.demo.billing_data import (
    AS_OF,
    BillingCustomer,
    BillingData,
    build_billing_data,
    plans,
    subscription,
)

MOUNT_PATH = "/demo-api/billing"


class RefundRequestIn(BaseModel):
    reason: str = "duplicate_charge"
    invoice: str | None = None


def create_billing_app(token: str, data: BillingData | None = None) -> FastAPI:
    """The API over ``data`` (fresh demo records by default), guarded by ``token``."""
    app = FastAPI(
        title="Lumen Analytics billing (demo)",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(_check_bearer)],
    )
    app.state.billing = data or build_billing_data()
    app.state.token = token
    app.include_router(router)
    return app


router = APIRouter()


def _store(request: Request) -> BillingData:
    store: BillingData = request.app.state.billing
    return store


async def _check_bearer(request: Request, authorization: Annotated[str, Header()] = "") -> None:
    expected = f"Bearer {request.app.state.token}".encode()
    if not hmac.compare_digest(authorization.encode(), expected):
        raise HTTPException(401, "a valid bearer token is required")


async def _customer(customer_id: str, request: Request) -> BillingCustomer:
    found = _store(request).customers.get(customer_id)
    if found is None:
        raise HTTPException(404, "no such customer")
    return found


Store = Annotated[BillingData, Depends(_store)]
Customer = Annotated[BillingCustomer, Depends(_customer)]


@router.get("/plans")
async def list_plans() -> dict[str, Any]:
    return {"plans": plans()}


@router.get("/customers/{customer_id}")
async def get_customer(found: Customer) -> dict[str, Any]:
    return {"id": found.id, "company": found.company, "plan": found.plan}


@router.get("/customers/{customer_id}/subscription")
async def get_subscription(found: Customer) -> dict[str, Any]:
    return subscription(found)


@router.get("/customers/{customer_id}/invoices")
async def list_invoices(found: Customer, store: Store) -> dict[str, Any]:
    invoices = store.invoices[found.id]
    return {"customer_id": found.id, "invoices": invoices, "latest": invoices[0]}


@router.get("/customers/{customer_id}/invoices/latest")
async def latest_invoice(found: Customer, store: Store) -> dict[str, Any]:
    return store.invoices[found.id][0]


@router.get("/customers/{customer_id}/invoices/{number}")
async def get_invoice(found: Customer, store: Store, number: str) -> dict[str, Any]:
    wanted = number.strip().upper()
    for invoice in store.invoices[found.id]:
        if invoice["number"] == wanted:
            return invoice
    raise HTTPException(404, "no such invoice")


@router.get("/customers/{customer_id}/charges")
async def list_charges(
    found: Customer, store: Store, invoice: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    charges = store.charges[found.id]
    wanted = (invoice or "").strip().upper()
    if wanted:
        charges = [charge for charge in charges if charge["invoice"] == wanted]
        if not charges:
            raise HTTPException(404, "no charges for that invoice")
    return {
        "customer_id": found.id,
        "invoice": wanted or None,
        "charges": charges,
        "duplicates": _duplicates(charges),
    }


@router.get("/customers/{customer_id}/orders")
async def list_orders(found: Customer, store: Store) -> dict[str, Any]:
    orders = [order for order in store.orders.values() if order["customer_id"] == found.id]
    return {"customer_id": found.id, "orders": orders}


@router.get("/customers/{customer_id}/orders/{order_number}")
async def get_order(found: Customer, store: Store, order_number: str) -> dict[str, Any]:
    order = store.orders.get(normalize_order_number(order_number))
    if order is None or order["customer_id"] != found.id:
        raise HTTPException(404, "no such order")  # another customer's: the same answer
    return order


@router.post("/customers/{customer_id}/refund-requests", status_code=201)
async def request_refund(found: Customer, store: Store, body: RefundRequestIn) -> dict[str, Any]:
    """Refund the extra charge of a duplicate; asking twice returns the same request."""
    if body.reason != "duplicate_charge":
        raise HTTPException(422, "only duplicate charges are refunded here")
    wanted = (body.invoice or "").strip().upper()
    for duplicate in _duplicates(store.charges[found.id]):
        if wanted and duplicate["invoice"] != wanted:
            continue
        extra_charge = duplicate["charge_ids"][0]  # the newest of the identical charges
        if extra_charge not in store.refund_requests:
            store.refund_requests[extra_charge] = {
                "id": f"rr_{extra_charge.removeprefix('ch_')}",
                "customer_id": found.id,
                "charge_id": extra_charge,
                "invoice": duplicate["invoice"],
                "amount": duplicate["amount"],
                "currency": duplicate["currency"],
                "status": "pending",
                "requested_on": AS_OF.isoformat(),
            }
        return store.refund_requests[extra_charge]
    raise HTTPException(404, "no duplicate charge to refund")


def normalize_order_number(raw: str) -> str:
    """'ORD-10421', 'ord10421', '#10421' and '10421' all name order ORD-10421."""
    text = raw.strip().upper().lstrip("#").removeprefix("ORD").lstrip("-# ")
    return f"ORD-{text}"


def _duplicates(charges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Identical charges (same invoice and amount), one entry per invoice, newest first."""
    counts = Counter((charge["invoice"], charge["amount"]) for charge in charges)
    found: list[dict[str, Any]] = []
    for (invoice, amount), count in counts.items():
        if count < 2:
            continue
        same = [c for c in charges if c["invoice"] == invoice and c["amount"] == amount]
        found.append(
            {
                "invoice": invoice,
                "amount": amount,
                "currency": same[0]["currency"],
                "count": count,
                "charged_on": same[0]["created_on"],
                "charge_ids": [charge["id"] for charge in same],
            }
        )
    return found
