"""What actions may know about a customer: business attributes and verified identities."""

from __future__ import annotations

from onethread.assistant.contact_facts import ContactFacts, contact_facts
from onethread.contacts.models import Contact, ContactIdentity


def identity(
    id: int, *, email: str | None = None, phone: str | None = None, verified: bool
) -> ContactIdentity:
    return ContactIdentity(id=id, channel="test", email=email, phone=phone, verified=verified)


def test_unverified_contact_details_are_not_facts() -> None:
    contact = Contact(email="typed@example.com", phone="+1 415 555 0000", attributes={})
    facts = contact_facts(contact, [identity(1, email="typed@example.com", verified=False)])
    assert facts.email is None
    assert facts.phone is None
    assert facts.missing(["email", "phone"]) == ["email", "phone"]


def test_verified_identities_carry_email_and_phone() -> None:
    contact = Contact(email="Dana@Northwind.com", phone=None, attributes={"customer_id": "c1"})
    facts = contact_facts(
        contact,
        [
            identity(3, email="other@northwind.com", verified=True),
            identity(2, email="dana@northwind.com", verified=True),
            identity(1, phone="14155550123", verified=True),
        ],
    )
    assert facts.email == "dana@northwind.com"  # the contact's own, since it is verified
    assert facts.phone == "+14155550123"
    assert facts.missing(["email", "phone", "attributes.customer_id"]) == []


def test_without_the_contacts_own_the_oldest_verified_value_is_used() -> None:
    facts = contact_facts(
        Contact(attributes={}),
        [
            identity(9, email="newer@example.com", verified=True),
            identity(4, email="older@example.com", verified=True),
        ],
    )
    assert facts.email == "older@example.com"


def test_attributes_are_business_facts() -> None:
    facts = contact_facts(
        Contact(attributes={"customer_id": "cus_1", "vip": False, "plan": " "}), []
    )
    assert facts.value("attributes.customer_id") == "cus_1"
    assert facts.missing(["attributes.vip", "attributes.plan", "attributes.absent"]) == [
        "attributes.plan",
        "attributes.absent",
    ]
    assert facts.missing(["name"]) == ["name"]  # not a field actions can require
    assert ContactFacts().template_view() == {
        "id": None,
        "email": None,
        "phone": None,
        "attributes": {},
    }
