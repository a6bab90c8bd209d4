"""What an action may know about the customer: trusted data only.

Two sources are trusted. The contact's business attributes (``customer_id``, ``plan``,
``vip``…) are set by the business through the API or an import, never by the customer.
An email or phone is trusted only when a *verified* identity carries it: the channel
vouched for it (a WhatsApp number, a signed widget user). ``Contact.email`` and
``Contact.phone`` can come from an unverified profile or a typed message, so they count
only when a verified identity holds the same value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from onethread.contacts.identity import normalize_email, normalize_phone
from onethread.contacts.models import Contact, ContactIdentity

ATTRIBUTE_PREFIX = "attributes."


@dataclass(frozen=True)
class ContactFacts:
    """The customer as actions see it; ``contact`` in templates."""

    contact_id: int | None = None
    email: str | None = None
    phone: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def value(self, name: str) -> Any:
        """A field named as in ``requires``: 'email', 'phone' or 'attributes.<name>'."""
        if name == "email":
            return self.email
        if name == "phone":
            return self.phone
        if name.startswith(ATTRIBUTE_PREFIX):
            return self.attributes.get(name.removeprefix(ATTRIBUTE_PREFIX))
        return None

    def missing(self, required: Iterable[str]) -> list[str]:
        """The required fields this contact does not have (absent, null or blank)."""
        return [name for name in required if _blank(self.value(name))]

    def template_view(self) -> dict[str, Any]:
        return {
            "id": self.contact_id,
            "email": self.email,
            "phone": self.phone,
            "attributes": dict(self.attributes),
        }


def contact_facts(contact: Contact, identities: Iterable[ContactIdentity]) -> ContactFacts:
    """Facts from the contact's attributes and its verified identities' email and phone."""
    verified = sorted(
        (identity for identity in identities if identity.verified),
        key=lambda identity: identity.id or 0,
    )
    emails = [e for e in (normalize_email(i.email) for i in verified) if e]
    phones = [p for p in (normalize_phone(i.phone) for i in verified) if p]
    return ContactFacts(
        contact_id=contact.id,
        email=_preferred(normalize_email(contact.email), emails),
        phone=_preferred(normalize_phone(contact.phone), phones),
        attributes=MappingProxyType(dict(contact.attributes or {})),
    )


def _preferred(on_contact: str | None, verified: list[str]) -> str | None:
    """The contact's own value when a verified identity carries it, else the oldest one."""
    if on_contact is not None and on_contact in verified:
        return on_contact
    return verified[0] if verified else None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
