"""The demo company's billing API on a real loopback port: its data, its guard, its scoping,
and where ``onethread demo`` serves it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from onethread.demo.billing_api import MOUNT_PATH, create_billing_app, normalize_order_number
from onethread.demo.billing_data import CUSTOMERS, contact_attributes
from onethread.demo.playbook import billing_api_token, billing_api_url
from onethread.demo.server import create_demo_app
from onethread.main import create_app
from onethread.settings import Settings
from tests.fakes.asgi_loopback import ServedApp

TOKEN = "demo-billing-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    with (
        ServedApp(create_billing_app(TOKEN)) as served,
        httpx.Client(base_url=served.base_url, headers=AUTH) as client,
    ):
        yield client


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_every_route_needs_the_bearer_token(api: httpx.Client, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for path in ("/plans", "/customers/cus_NW1042/charges", "/customers/nobody/orders/1"):
        response = httpx.get(f"{api.base_url}{path}", headers=headers)
        assert response.status_code == 401, path


def test_the_double_charge(api: httpx.Client) -> None:
    body = api.get("/customers/cus_NW1042/charges").json()
    twice = [c for c in body["charges"] if c["invoice"] == "INV-2026-1107"]
    assert [(c["amount"], c["created_on"], c["status"]) for c in twice] == [
        ("249.00", "2026-11-07", "succeeded"),
        ("249.00", "2026-11-07", "succeeded"),
    ]
    assert body["duplicates"] == [
        {
            "invoice": "INV-2026-1107",
            "amount": "249.00",
            "currency": "USD",
            "count": 2,
            "charged_on": "2026-11-07",
            "charge_ids": ["ch_NW1042_20261107_2", "ch_NW1042_20261107_1"],
        }
    ]
    for customer in CUSTOMERS[1:]:  # nobody else was charged twice
        assert api.get(f"/customers/{customer.id}/charges").json()["duplicates"] == []


def test_invoices(api: httpx.Client) -> None:
    sarah = api.get("/customers/cus_SO7702/invoices").json()
    assert [i["number"] for i in sarah["invoices"]] == [
        "INV-2026-1031",
        "INV-2026-0930",
        "INV-2026-0831",
    ]
    assert api.get("/customers/cus_SO7702/invoices/latest").json() == sarah["latest"]
    assert api.get("/customers/cus_SO7702/invoices/inv-2026-0930").json()["amount"] == "249.00"
    assert api.get("/customers/cus_NW1042/invoices/INV-2026-1031").status_code == 404


def test_subscriptions(api: httpx.Client) -> None:
    dana = api.get("/customers/cus_NW1042/subscription").json()
    assert (dana["plan"], dana["price"], dana["status"], dana["renews_on"]) == (
        "Business",
        "249.00",
        "active",
        "2026-12-07",
    )
    aiko = api.get("/customers/cus_AT5520/subscription").json()
    assert (aiko["status"], aiko["cancel_at"], aiko["renews_on"]) == ("active", "2026-11-30", None)
    kwame = api.get("/customers/cus_KM8815/subscription").json()
    assert (kwame["status"], kwame["canceled_on"]) == ("canceled", "2026-10-31")


def test_orders_are_scoped_to_their_customer(api: httpx.Client) -> None:
    assert api.get("/customers/cus_FL2211/orders/ORD-10455").json()["status"] == "pending"
    someone_elses = api.get("/customers/cus_NW1042/orders/ORD-10455")
    nonexistent = api.get("/customers/cus_NW1042/orders/ORD-99999")
    assert someone_elses.status_code == nonexistent.status_code == 404
    assert someone_elses.json() == nonexistent.json() == {"detail": "no such order"}
    numbers = [o["order_number"] for o in api.get("/customers/cus_NW1042/orders").json()["orders"]]
    assert numbers == ["ORD-10388", "ORD-10421"]
    assert api.get("/customers/cus_nobody/orders/ORD-10455").status_code == 404


@pytest.mark.parametrize("typed", ["ORD-10421", "ord-10421", "#10421", "10421", "ORD10421"])
def test_order_numbers_as_customers_type_them(typed: str) -> None:
    assert normalize_order_number(typed) == "ORD-10421"


def test_a_refund_request_is_filed_once(api: httpx.Client) -> None:
    first = api.post("/customers/cus_NW1042/refund-requests", json={"reason": "duplicate_charge"})
    assert first.status_code == 201
    assert first.json()["charge_id"] == "ch_NW1042_20261107_2"
    again = api.post("/customers/cus_NW1042/refund-requests", json={"invoice": "INV-2026-1107"})
    assert again.json() == first.json()
    none = api.post("/customers/cus_SO7702/refund-requests", json={})
    assert none.status_code == 404
    other = api.post("/customers/cus_NW1042/refund-requests", json={"reason": "unhappy"})
    assert other.status_code == 422


def test_plans(api: httpx.Client) -> None:
    prices = {
        p["plan"]: (p["monthly_price"], p["annual_price"])
        for p in api.get("/plans").json()["plans"]
    }
    assert prices == {
        "Starter": ("29.00", "290.00"),
        "Team": ("99.00", "990.00"),
        "Business": ("249.00", "2490.00"),
    }


def test_every_demo_contact_is_linked_to_its_customer() -> None:
    from onethread.demo import script

    names = {thread.customer.name for thread in script.THREADS}
    assert {customer.contact_name for customer in CUSTOMERS} == names
    assert contact_attributes("Dana Whitfield") == {"customer_id": "cus_NW1042"}
    assert contact_attributes("Somebody Else") == {}


def test_the_billing_api_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONETHREAD_PUBLIC_URL", raising=False)
    bound = Settings(data_dir=tmp_path)
    assert billing_api_url(bound) == "http://127.0.0.1:8000/demo-api/billing"
    assert billing_api_url(bound, "0.0.0.0", 9000) == "http://127.0.0.1:9000/demo-api/billing"
    assert billing_api_url(bound, "::1", 9000) == "http://[::1]:9000/demo-api/billing"
    monkeypatch.setenv("ONETHREAD_PUBLIC_URL", "https://demo.example.com/")
    public = Settings(data_dir=tmp_path)
    assert billing_api_url(public, "0.0.0.0", 9000) == "https://demo.example.com/demo-api/billing"


def test_the_demo_server_mounts_it_and_serve_does_not(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        secret_key="demo-secret",
    )
    token = billing_api_token(settings)
    assert (
        token
        == billing_api_token(settings)
        != billing_api_token(Settings(data_dir=tmp_path, secret_key="another-secret"))
    )
    with ServedApp(create_demo_app(settings, run_worker=False), lifespan="on") as served:
        base = served.base_url
        plans = httpx.get(f"{base}{MOUNT_PATH}/plans", headers={"Authorization": f"Bearer {token}"})
        assert plans.status_code == 200
        assert httpx.get(f"{base}{MOUNT_PATH}/plans").status_code == 401
        openapi = httpx.get(f"{base}/api/v1/openapi.json")
        assert openapi.status_code == 200
        assert "demo-api" not in openapi.text
    with ServedApp(create_app(settings), lifespan="on") as plain:
        response = httpx.get(f"{plain.base_url}{MOUNT_PATH}/plans")
        assert response.status_code == 404
