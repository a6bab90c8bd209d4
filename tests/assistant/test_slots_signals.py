"""What the assistant reads out of a message on its own: slots, a human request, anger."""

from __future__ import annotations

from datetime import date

import pytest

from onethread.assistant.signals import asks_for_human, sentiment
from onethread.assistant.slots import extract_slots
from onethread.playbook.schemas import SlotKind

TODAY = date(2026, 11, 26)


def test_every_slot_kind_is_read_and_normalised() -> None:
    slots = extract_slots(
        "My order #48213 and invoice INV-2041 from 3 November, paid $49.00; "
        "mail me at Dana@x.io or call +1 555 010 2233",
        today=TODAY,
    )
    assert slots == {
        SlotKind.ORDER_NUMBER: "ORD-48213",
        SlotKind.INVOICE_NUMBER: "INV-2041",
        SlotKind.DATE: "2026-11-03",
        SlotKind.AMOUNT: "49.00",
        SlotKind.EMAIL: "dana@x.io",
        SlotKind.PHONE: "+15550102233",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("commande n° 12345 du 2026-11-03", {"order_number": "ORD-12345", "date": "2026-11-03"}),
        ("It's ORD-10421", {"order_number": "ORD-10421"}),
        ("factura 2041 de 12,50 €", {"invoice_number": "INV-2041", "amount": "12.50"}),
        ("on 03/11/2026", {}),  # day or month first? not guessed
        ("on 31 February", {}),  # no such day
        ("how do I reset my password", {}),
    ],
)
def test_slots_in_several_languages_and_what_is_not_guessed(
    text: str, expected: dict[str, str]
) -> None:
    found = {kind.value: value for kind, value in extract_slots(text, today=TODAY).items()}
    assert found == expected


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to a human",
        "Can I speak with someone please?",
        "je veux parler à un conseiller",
        "quiero hablar con una persona",
        "Ich möchte mit einem Mitarbeiter sprechen",
        "falar com atendente",
        "agent",
    ],
)
def test_explicit_requests_for_a_person(text: str) -> None:
    assert asks_for_human(text)


@pytest.mark.parametrize("text", ["how do I export data", "the agent field is empty"])
def test_mentions_of_agents_are_not_requests(text: str) -> None:
    assert not asks_for_human(text)


def test_sentiment_tells_anger_from_a_bug_report() -> None:
    assert sentiment("This is UNACCEPTABLE, you are useless and a scam!!") <= -0.6
    assert sentiment("I was double-charged and the export button is broken") > -0.6
    assert sentiment("how do I reset my password") == 0.0
    assert sentiment("thanks, great help") > 0.5
    assert sentiment("I am not happy at all") < 0
