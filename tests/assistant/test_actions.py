"""The action runner against the demo billing API on a real loopback port, and against a
recording service stand-in for what the demo API never does (slow, 500, bad JSON)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx
import pytest

from onethread.assistant.actions_runner import (
    ActionDone,
    ActionFailed,
    ActionNeedsIdentity,
    ActionNeedsSlots,
    ActionNotFound,
    ActionOutcome,
    ContactFacts,
    contact_facts,
    run_action,
)
from onethread.contacts.models import Contact, ContactIdentity
from onethread.demo.billing_api import create_billing_app
from onethread.demo.playbook import BILLING_TOKEN_SECRET, demo_playbook
from onethread.playbook.schemas import HttpAction, Playbook, SlotKind
from tests.assistant.fake_service import FakeService
from tests.fakes.asgi_loopback import ServedApp

TOKEN = "billing-token-5f0c9e"
SECRETS = {BILLING_TOKEN_SECRET: TOKEN}
ORDER = SlotKind.ORDER_NUMBER


def customer(customer_id: str | None, **attributes: Any) -> ContactFacts:
    if customer_id:
        attributes["customer_id"] = customer_id
    return contact_facts(Contact(attributes=attributes), [])


DANA = customer("cus_NW1042", plan="Business")
PRIYA = customer("cus_FL2211", plan="Team", vip=True)
SARAH = customer("cus_SO7702", plan="Business")
AIKO = customer("cus_AT5520", plan="Team")
KWAME = customer("cus_KM8815", plan="Team")
STRANGER = customer(None)  # a web chat visitor nobody has linked to a billing customer


@pytest.fixture(scope="module")
def billing() -> Iterator[ServedApp]:
    with ServedApp(create_billing_app(TOKEN)) as served:
        yield served


@pytest.fixture(scope="module")
def playbook(billing: ServedApp) -> Playbook:
    return demo_playbook(f"{billing.base_url}/")


@pytest.fixture(scope="module")
def service() -> Iterator[FakeService]:
    with FakeService() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def run(
    playbook: Playbook | HttpAction,
    name: str,
    http: httpx.AsyncClient,
    facts: ContactFacts,
    slots: Mapping[SlotKind, str] | None = None,
    *,
    language: str = "en",
    secrets: Mapping[str, str] = SECRETS,
    variables: Mapping[str, str] | None = None,
) -> ActionOutcome:
    if isinstance(playbook, HttpAction):
        action: Any = playbook
        variables = variables or {}
    else:
        action = playbook.action(name)
        variables = playbook.vars if variables is None else variables
    assert action is not None, name
    return await run_action(
        action,
        facts=facts,
        slots=dict(slots or {}),
        vars=variables,
        secrets=secrets,
        http=http,
        language=language,
        default_language="en",
    )


def done(outcome: ActionOutcome) -> ActionDone:
    assert isinstance(outcome, ActionDone), outcome
    assert TOKEN not in outcome.reply_text
    assert all(TOKEN not in fact for fact in outcome.facts_text)
    return outcome


# --- the demo's actions against the demo billing API ---------------------------------


async def test_double_charge_reply_has_the_exact_charges(
    playbook: Playbook, http: httpx.AsyncClient
) -> None:
    outcome = done(await run(playbook, "check_charges", http, DANA))
    assert outcome.reply_text == (
        "I checked your charges. Invoice INV-2026-1107 was charged 2 times on 2026-11-07, "
        "249.00 USD each (ch_NW1042_20261107_2, ch_NW1042_20261107_1). If you'd like the "
        "extra charge refunded, just say so and I'll file the request."
    )
    for fact in ("INV-2026-1107", "2", "2026-11-07", "249.00", "ch_NW1042_20261107_2"):
        assert fact in outcome.facts_text
    assert outcome.language == "en"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "La facture INV-2026-1107 a été débitée 2 fois le 2026-11-07, 249.00 USD"),
        ("es", "La factura INV-2026-1107 se cobró 2 veces el 2026-11-07, 249.00 USD cada vez"),
        ("de", "Invoice INV-2026-1107 was charged 2 times"),  # no German: the default language
    ],
)
async def test_replies_in_the_customers_language(
    playbook: Playbook, http: httpx.AsyncClient, language: str, expected: str
) -> None:
    outcome = done(await run(playbook, "check_charges", http, DANA, language=language))
    assert expected in outcome.reply_text
    assert outcome.language == ("en" if language == "de" else language)


async def test_charges_without_a_duplicate(playbook: Playbook, http: httpx.AsyncClient) -> None:
    outcome = done(await run(playbook, "check_charges", http, SARAH))
    assert outcome.reply_text == (
        "I checked your charges: the latest is 249.00 USD on 2026-10-31 for invoice "
        "INV-2026-1031, and I don't see any duplicate charge."
    )


async def test_an_invoice_number_only_narrows_the_customers_own_charges(
    playbook: Playbook, http: httpx.AsyncClient
) -> None:
    own = done(
        await run(playbook, "check_charges", http, DANA, {SlotKind.INVOICE_NUMBER: "inv-2026-1007"})
    )
    assert [c["invoice"] for c in own.result["charges"]] == ["INV-2026-1007"]
    sarahs = await run(
        playbook, "check_charges", http, DANA, {SlotKind.INVOICE_NUMBER: "INV-2026-1031"}
    )
    assert sarahs == ActionNotFound(
        "I couldn't find any charge for that invoice on your account.", "en"
    )


async def test_latest_invoice(playbook: Playbook, http: httpx.AsyncClient) -> None:
    outcome = done(await run(playbook, "latest_invoice", http, SARAH))
    assert outcome.reply_text.startswith(
        "Your latest invoice is INV-2026-1031: 249.00 USD, issued on 2026-10-31 (paid). "
        "Here is the PDF: https://billing.lumen-analytics.com/invoices/INV-2026-1031.pdf"
    )
    spanish = done(await run(playbook, "latest_invoice", http, SARAH, language="es"))
    assert "INV-2026-1031: 249.00 USD, emitida el 2026-10-31 (pagada)" in spanish.reply_text


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (
            DANA,
            "Your Business plan (25 seats, 249.00 USD a month) is active and renews on 2026-12-07.",
        ),
        (
            AIKO,
            "Your Team plan (10 seats, 99.00 USD a month) is active until 2026-11-30, when it "
            "ends as requested; it will not renew.",
        ),
        (KWAME, "Your Team subscription was cancelled and ended on 2026-10-31."),
    ],
)
async def test_subscription_status(
    playbook: Playbook, http: httpx.AsyncClient, facts: ContactFacts, expected: str
) -> None:
    assert done(await run(playbook, "subscription_status", http, facts)).reply_text == expected


@pytest.mark.parametrize("typed", ["ORD-10421", "ord-10421", "#10421", "10421", " ORD10421 "])
async def test_order_status(playbook: Playbook, http: httpx.AsyncClient, typed: str) -> None:
    outcome = done(await run(playbook, "order_status", http, DANA, {ORDER: typed}))
    assert outcome.reply_text == (
        "Order ORD-10421 (5 \N{MULTIPLICATION SIGN} Hardware security key, 125.00 USD) "
        "is on its way. It shipped on 2026-11-24 with UPS, tracking number 1Z10421US019, "
        "and should arrive by 2026-11-28."
    )


async def test_order_status_pending_and_delivered_in_french(
    playbook: Playbook, http: httpx.AsyncClient
) -> None:
    pending = done(
        await run(playbook, "order_status", http, PRIYA, {ORDER: "ORD-10455"}, language="fr")
    )
    assert pending.reply_text == (
        "La commande ORD-10455 (3 \N{MULTIPLICATION SIGN} Hardware security key, 75.00 USD) "
        "est en préparation. Elle a été passée le 2026-11-24 et devrait arriver d'ici le "
        "2026-11-30."
    )
    delivered = done(await run(playbook, "order_status", http, DANA, {ORDER: "ORD-10388"}))
    assert delivered.reply_text.endswith("is delivered. It was delivered on 2026-11-18.")


async def test_a_missing_order_number_is_asked_for(
    playbook: Playbook, http: httpx.AsyncClient
) -> None:
    assert await run(playbook, "order_status", http, DANA) == ActionNeedsSlots([ORDER])
    assert await run(playbook, "order_status", http, DANA, {ORDER: "  "}) == ActionNeedsSlots(
        [ORDER]
    )


async def test_someone_elses_order_number_gets_nothing_about_it(
    playbook: Playbook, http: httpx.AsyncClient
) -> None:
    """Dana types Priya's order number: the lookup is scoped to Dana, so: not found."""
    outcome = await run(playbook, "order_status", http, DANA, {ORDER: "ORD-10455"})
    assert isinstance(outcome, ActionNotFound)
    assert outcome.reply_text == (
        "I couldn't find an order with that number on your account. Please check the number "
        "in your order confirmation email."
    )
    for detail in ("10455", "Hardware", "pending", "2026-11", "75.00", "Priya", "Fernleaf"):
        assert detail not in outcome.reply_text


@pytest.mark.parametrize(
    "typed",
    [
        "../../cus_FL2211/orders/ORD-10455",
        "..%2F..%2Fcus_FL2211%2Forders%2FORD-10455",
        "ORD-10455?customer=cus_FL2211",
        "ORD-10455#",
        "/ORD-10455",
    ],
)
async def test_a_typed_slot_cannot_change_the_path(
    playbook: Playbook, http: httpx.AsyncClient, typed: str
) -> None:
    outcome = await run(playbook, "order_status", http, DANA, {ORDER: typed})
    assert isinstance(outcome, ActionNotFound), outcome


async def test_a_slot_is_one_quoted_path_segment(
    playbook: Playbook, service: FakeService, http: httpx.AsyncClient
) -> None:
    await run(
        playbook,
        "order_status",
        http,
        DANA,
        {ORDER: "../../cus_FL2211/orders/1?x=1#y"},
        variables={"billing_api": service.base_url},
    )
    sent = service.requests[-1]
    assert sent.path == "/customers/cus_NW1042/orders/..%2F..%2Fcus_FL2211%2Forders%2F1%3Fx%3D1%23y"
    assert sent.query == ""


async def test_an_unlinked_contact_needs_identity(
    playbook: Playbook, http: httpx.AsyncClient
) -> None:
    for name in ("check_charges", "latest_invoice", "subscription_status", "plan_quote"):
        assert await run(playbook, name, http, STRANGER) == ActionNeedsIdentity(
            ["attributes.customer_id"]
        )
    # identity is checked before slots: no point asking an unverified customer for a number
    assert await run(playbook, "order_status", http, STRANGER) == ActionNeedsIdentity(
        ["attributes.customer_id"]
    )


async def test_refund_request_for_the_duplicate(
    playbook: Playbook, http: httpx.AsyncClient
) -> None:
    first = done(await run(playbook, "request_duplicate_refund", http, DANA))
    assert first.reply_text == (
        "Done: I've filed refund request rr_NW1042_20261107_2 for the extra charge "
        "ch_NW1042_20261107_2 of 249.00 USD on invoice INV-2026-1107. Its status is pending."
    )
    again = done(await run(playbook, "request_duplicate_refund", http, DANA, language="es"))
    assert again.result["id"] == first.result["id"]
    assert "Su estado: pendiente." in again.reply_text
    nothing = await run(playbook, "request_duplicate_refund", http, SARAH)
    assert isinstance(nothing, ActionNotFound)
    assert "couldn't find a duplicate charge" in nothing.reply_text


async def test_python_action_from_the_packages_entry_point(
    playbook: Playbook, http: httpx.AsyncClient
) -> None:
    outcome = done(await run(playbook, "plan_quote", http, DANA))
    assert outcome.result == {
        "plan": "Business",
        "currency": "USD",
        "monthly_price": "249.00",
        "yearly_if_monthly": "2988.00",
        "annual_price": "2490.00",
        "annual_saving": "498.00",
    }
    assert "Billed annually it is 2490.00 USD a year, a saving of 498.00 USD." in (
        outcome.reply_text
    )
    cancelled = await run(playbook, "plan_quote", http, KWAME)
    assert isinstance(cancelled, ActionNotFound)


async def test_the_token_is_sent_and_required(playbook: Playbook, http: httpx.AsyncClient) -> None:
    wrong = await run(
        playbook, "latest_invoice", http, SARAH, secrets={BILLING_TOKEN_SECRET: "nope"}
    )
    assert isinstance(wrong, ActionFailed)
    assert wrong.reason == "http_status"
    assert "HTTP 401" in wrong.detail
    missing = await run(playbook, "latest_invoice", http, SARAH, secrets={})
    assert isinstance(missing, ActionFailed)
    assert missing.reason == "template"


# --- failures, against the recording stand-in ---------------------------------------


def plain_action(**fields: Any) -> HttpAction:
    values: dict[str, Any] = {
        "name": "probe",
        "url": "{{ vars.api }}/probe/{{ slots.order_number }}",
        "headers": {"Authorization": "Bearer {{ secrets.token }}"},
        "slots": ["order_number"],
        "timeout_seconds": 2,
        "reply": {"en": "Path {{ result.path }} for {{ slots.order_number }}."},
        "not_found_reply": {"en": "Nothing about it."},
    }
    values.update(fields)
    return HttpAction.model_validate(values)


async def probe(
    service: FakeService, http: httpx.AsyncClient, action: HttpAction, order: str = "A1"
) -> ActionOutcome:
    return await run(
        action,
        "probe",
        http,
        DANA,
        {ORDER: order},
        secrets={"token": TOKEN},
        variables={"api": service.base_url},
    )


async def test_a_slow_service_times_out(service: FakeService, http: httpx.AsyncClient) -> None:
    service.script(delay=3)
    started = time.perf_counter()
    outcome = await probe(service, http, plain_action(timeout_seconds=0.3))
    assert isinstance(outcome, ActionFailed)
    assert outcome.reason == "timeout"
    assert time.perf_counter() - started < 1.5


@pytest.mark.parametrize(("status", "reason"), [(500, "http_status"), (503, "http_status")])
async def test_a_server_error_fails(
    service: FakeService, http: httpx.AsyncClient, status: int, reason: str
) -> None:
    service.script(status=status)
    outcome = await probe(service, http, plain_action())
    assert outcome == ActionFailed(reason, f"GET {service.base_url}/probe/A1: HTTP {status}")


async def test_a_404_and_an_empty_answer_are_not_found(
    service: FakeService, http: httpx.AsyncClient
) -> None:
    for status, body in ((404, None), (200, []), (200, {}), (204, b"")):
        service.script(status=status, body=body)
        assert await probe(service, http, plain_action()) == ActionNotFound(
            "Nothing about it.", "en"
        )


async def test_a_bad_answer_fails(service: FakeService, http: httpx.AsyncClient) -> None:
    service.script(body=b"<html>oops</html>")
    outcome = await probe(service, http, plain_action())
    assert isinstance(outcome, ActionFailed)
    assert outcome.reason == "bad_json"


async def test_an_unreachable_service_fails(http: httpx.AsyncClient) -> None:
    gone = FakeService().start()
    url = gone.base_url
    gone.stop()
    outcome = await run(
        plain_action(),
        "probe",
        http,
        DANA,
        {ORDER: "A1"},
        secrets={"token": TOKEN},
        variables={"api": url},
    )
    assert isinstance(outcome, ActionFailed)
    assert outcome.reason == "connection"


async def test_a_template_injection_in_a_slot_stays_data(
    service: FakeService, http: httpx.AsyncClient
) -> None:
    typed = "{{ secrets.token }}{% for x in range(3) %}!{% endfor %}"
    outcome = done(await probe(service, http, plain_action(), order=typed))
    assert outcome.reply_text.endswith(f"for {typed}.")
    assert service.requests[-1].path.startswith("/probe/%7B%7B%20secrets.token%20%7D%7D")


async def test_secrets_go_in_headers_and_never_in_outcomes(
    service: FakeService, http: httpx.AsyncClient
) -> None:
    done(await probe(service, http, plain_action()))
    assert service.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"
    service.script(body={"echo": f"your token is {TOKEN}"})  # a service echoing it back
    echoed = done(await probe(service, http, plain_action(reply={"en": "Said: {{ result.echo }}"})))
    assert echoed.reply_text == "Said: your token is [secret]"
    service.script(status=500, body={"error": f"bad token {TOKEN}"})
    failed = await probe(service, http, plain_action())
    assert isinstance(failed, ActionFailed)
    assert TOKEN not in failed.detail


@pytest.mark.parametrize(
    "fields",
    [
        {"url": "{{ vars.api }}/probe/{{ secrets.token }}"},
        {"params": {"key": "{{ secrets.token }}"}},
    ],
)
async def test_secrets_never_go_in_the_url(
    service: FakeService, http: httpx.AsyncClient, fields: dict[str, Any]
) -> None:
    """URLs end up in logs (httpx logs every request's): a secret in one is refused."""
    sent = len(service.requests)
    outcome = await probe(service, http, plain_action(**fields))
    assert outcome == ActionFailed("template", "secrets go in headers or the body, not the URL")
    assert len(service.requests) == sent


async def test_replies_cannot_see_secrets(service: FakeService, http: httpx.AsyncClient) -> None:
    outcome = await probe(service, http, plain_action(reply={"en": "{{ secrets.token }}"}))
    assert isinstance(outcome, ActionFailed)
    assert outcome.reason == "template"
    assert TOKEN not in outcome.detail


async def test_the_sandbox_refuses_python_internals(
    service: FakeService, http: httpx.AsyncClient
) -> None:
    action = plain_action(reply={"en": "{{ result.__class__.__mro__ }}"})
    outcome = await probe(service, http, action)
    assert isinstance(outcome, ActionFailed)
    assert outcome.reason == "template"


async def test_requires_an_email_from_a_verified_identity_only(
    service: FakeService, http: httpx.AsyncClient
) -> None:
    action = plain_action(requires=["email"], params={"email": "{{ contact.email }}"})
    contact = Contact(email="typed@example.com", attributes={})
    unverified = ContactIdentity(email="typed@example.com", verified=False)
    outcome = await run(
        action,
        "probe",
        http,
        contact_facts(contact, [unverified]),
        {ORDER: "A1"},
        secrets={"token": TOKEN},
        variables={"api": service.base_url},
    )
    assert outcome == ActionNeedsIdentity(["email"])
    verified = ContactIdentity(email="Real@Example.com", verified=True)
    done(
        await run(
            action,
            "probe",
            http,
            contact_facts(contact, [unverified, verified]),
            {ORDER: "A1"},
            secrets={"token": TOKEN},
            variables={"api": service.base_url},
        )
    )
    assert service.requests[-1].query == "email=real%40example.com"
