"""The demo's people and their conversations, as data.

Each thread is a list of turns: ``("in", channel, text)`` from the customer,
``("ai"|"agent", text)`` replies, ``("note", text)`` private notes, and state
changes (``("handoff", team, reason)``, ``("assign", email)``, ``("resolve",)``…).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COMPANY = "Lumen Analytics (demo)"
ADMIN_EMAIL = "demo@onethread.dev"
PASSWORD = "onethread-demo"
BILLING = "Billing & Accounts"
SUPPORT = "Technical Support"

AGENTS = [
    # email, name, role, languages, team
    ("maya.chen@lumen-analytics.com", "Maya Chen", "agent", ["en", "zh"], BILLING),
    ("omar.haddad@lumen-analytics.com", "Omar Haddad", "agent", ["en", "ar", "fr"], BILLING),
    ("lucia.romero@lumen-analytics.com", "Lucía Romero", "agent", ["es", "en"], SUPPORT),
    ("ben.okafor@lumen-analytics.com", "Ben Okafor", "agent", ["en"], SUPPORT),
]

INBOXES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "whatsapp",
        "WhatsApp · +1 415 555 0100",
        {
            "phone_number_id": "100000000000001",
            "display_phone_number": "+1 415 555 0100",
            "access_token": "sandbox-token",
            "app_secret": "sandbox-app-secret",
            "verify_token": "sandbox-verify",
            "sandbox": True,
            "templates": [
                {
                    "name": "follow_up",
                    "language": "en_US",
                    "body": "Hi {{1}}, we have an update on your request. Reply to continue.",
                    "parameters": ["first_name"],
                }
            ],
        },
    ),
    (
        "instagram",
        "Instagram · @lumenanalytics",
        {
            "account_id": "17841400000000001",
            "access_token": "sandbox-token",
            "app_secret": "sandbox-app-secret",
            "verify_token": "sandbox-verify",
            "sandbox": True,
        },
    ),
    (
        "messenger",
        "Messenger · Lumen Analytics",
        {
            "page_id": "100000000000002",
            "access_token": "sandbox-token",
            "app_secret": "sandbox-app-secret",
            "verify_token": "sandbox-verify",
            "sandbox": True,
        },
    ),
    (
        "twilio_sms",
        "SMS · +1 415 555 0101",
        {
            "account_sid": "AC" + "d" * 32,
            "auth_token": "sandbox-auth-token",
            "sender": "+14155550101",
            "sandbox": True,
        },
    ),
    (
        "twilio_whatsapp",
        "WhatsApp via Twilio · +1 415 555 0102",
        {
            "account_sid": "AC" + "d" * 32,
            "auth_token": "sandbox-auth-token",
            "sender": "+14155550102",
            "sandbox": True,
        },
    ),
    (
        "twilio_voice",
        "Phone · +1 415 555 0103",
        {
            "account_sid": "AC" + "d" * 32,
            "auth_token": "sandbox-auth-token",
            "sender": "+14155550103",
            "voice_language": "en-US",
            "human_transfer_number": "+14155550199",
            "sandbox": True,
        },
    ),
    (
        "webchat",
        "Website chat",
        {
            "allowed_origins": ["http://localhost:8000", "https://lumen-analytics.com"],
            "identity_secret": "sandbox-identity-secret",
            "greeting": "Hi! Ask us anything.",
            "title": "Lumen support",
            "sandbox": True,
        },
    ),
]


@dataclass
class Customer:
    name: str
    identities: dict[str, str]  # channel kind -> sender id on that channel
    phone: str | None = None
    email: str | None = None
    language: str = "en"
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Thread:
    customer: Customer
    hours_ago: float
    turns: list[tuple[Any, ...]]
    topics: list[tuple[str, str]] = field(default_factory=list)
    priority: str | None = None


DANA = Customer(
    "Dana Whitfield",
    {"whatsapp": "14155550123", "twilio_sms": "+14155550123"},
    phone="+14155550123",
    email="dana@northwind-retail.com",
    attributes={
        "plan": "Business",
        "vip": False,
        "customer_since": "2022-03-14",
        "monthly_revenue": 249.0,
        "lifetime_revenue": 10209.0,
        "company": "Northwind Retail",
    },
)
PRIYA = Customer(
    "Priya Nair",
    {"webchat": "visitor-priya", "whatsapp": "447700900321"},
    phone="+447700900321",
    email="priya@fernleaf.io",
    attributes={
        "plan": "Team",
        "vip": True,
        "customer_since": "2021-11-02",
        "monthly_revenue": 99.0,
        "lifetime_revenue": 4851.0,
        "company": "Fernleaf",
    },
)
MARCO = Customer(
    "Marco Rossi",
    {"instagram": "6700000000000001"},
    attributes={
        "plan": "Starter",
        "customer_since": "2025-06-20",
        "monthly_revenue": 29.0,
        "lifetime_revenue": 493.0,
    },
)
TOM = Customer(
    "Tom Becker",
    {"messenger": "7100000000000001"},
    email="tom@beckerbau.de",
    language="de",
    attributes={
        "plan": "Business",
        "customer_since": "2023-01-09",
        "monthly_revenue": 249.0,
        "lifetime_revenue": 9462.0,
    },
)
AIKO = Customer(
    "Aiko Tanaka",
    {"twilio_sms": "+819012345678"},
    phone="+819012345678",
    attributes={
        "plan": "Team",
        "customer_since": "2024-02-01",
        "monthly_revenue": 99.0,
        "lifetime_revenue": 3267.0,
    },
)
LUIS = Customer(
    "Luis García",
    {"twilio_voice": "+34600111222"},
    phone="+34600111222",
    language="es",
    attributes={
        "plan": "Starter",
        "customer_since": "2025-09-12",
        "monthly_revenue": 29.0,
        "lifetime_revenue": 87.0,
    },
)
SARAH = Customer(
    "Sarah O'Connor",
    {"twilio_whatsapp": "+353851234567"},
    phone="+353851234567",
    attributes={
        "plan": "Business",
        "customer_since": "2020-05-30",
        "vip": True,
        "monthly_revenue": 249.0,
        "lifetime_revenue": 16185.0,
    },
)
KWAME = Customer(
    "Kwame Mensah",
    {"webchat": "visitor-kwame"},
    email="kwame@asante.co",
    attributes={
        "plan": "Team",
        "customer_since": "2024-08-15",
        "monthly_revenue": 99.0,
        "lifetime_revenue": 1485.0,
        "churned_at": "2026-10-31",
    },
)

THREADS = [
    Thread(
        DANA,
        0.3,
        [
            (
                "in",
                "whatsapp",
                "Hi, I was double-charged this month and the export button is "
                "broken. Can someone help?",
            ),
        ],
        topics=[("billing.double_charge", "service"), ("product.bug", "support")],
    ),
    Thread(
        PRIYA,
        5,
        [
            ("in", "webchat", "Can I switch our workspace from monthly to annual billing?"),
            (
                "ai",
                "Yes. You can switch to annual billing from Settings → Billing → Change plan; "
                "annual plans are billed once a year.",
                {"sources": [{"article": "Changing your billing period"}], "confidence": 0.91},
            ),
            (
                "in",
                "whatsapp",
                "Thanks! Before I switch: is the unused month refunded? "
                "I'd like to talk to someone.",
            ),
            (
                "handoff",
                BILLING,
                "customer_requested_human",
                "The customer asks whether the unused month is refunded when moving to annual "
                "billing and asked for a person. VIP, Team plan since 2021. Already told: how to "
                "switch in Settings → Billing. Sentiment: neutral. Language: en.",
            ),
            ("assign", "maya.chen@lumen-analytics.com"),
            (
                "agent",
                "maya.chen@lumen-analytics.com",
                "Hi Priya, Maya here from Billing. I'm checking your account now.",
            ),
        ],
        topics=[("billing.plan_change", "service")],
    ),
    Thread(
        MARCO,
        30,
        [
            ("in", "instagram", "how do i add a teammate to my workspace?"),
            (
                "ai",
                "Go to Settings → Members → Invite, enter their email and pick a role. "
                "They'll get an invitation link valid for 7 days.",
                {"sources": [{"article": "Inviting teammates"}], "confidence": 0.94},
            ),
            ("in", "instagram", "worked, thanks!"),
            ("resolve",),
        ],
        topics=[("account.members", "service")],
    ),
    Thread(
        TOM,
        2,
        [
            (
                "in",
                "messenger",
                "Unser Dashboard zeigt seit heute Morgen 'Error 502'. "
                "Our dashboard shows Error 502 since this morning.",
            ),
            (
                "handoff",
                SUPPORT,
                "topic_requires_human",
                "Dashboard returns HTTP 502 since this morning (customer's report). Business plan. "
                "No action run. Language: de (writes English too).",
            ),
            ("assign", "ben.okafor@lumen-analytics.com"),
            (
                "note",
                "ben.okafor@lumen-analytics.com",
                "Same symptom as the eu-west incident at 08:10 UTC; linking to INC-2291.",
            ),
            (
                "agent",
                "ben.okafor@lumen-analytics.com",
                "Thanks Tom, we're on it: an incident in our EU region is affecting dashboards. "
                "I'll update you here as soon as it's fixed.",
            ),
        ],
        topics=[("product.outage", "support")],
        priority="high",
    ),
    Thread(
        AIKO,
        20,
        [
            ("in", "twilio_sms", "Please cancel my subscription at the end of this month."),
            (
                "handoff",
                BILLING,
                "topic_requires_human",
                "Cancellation request (end of month). Team plan since 2024. Retention offer "
                "possible. Language: en.",
            ),
            ("assign", "omar.haddad@lumen-analytics.com"),
            (
                "agent",
                "omar.haddad@lumen-analytics.com",
                "Hi Aiko, sorry to see you go. I've scheduled the cancellation for the 30th. "
                "Could you tell us what made you decide?",
            ),
            ("snooze", 48),
        ],
        topics=[("account.cancellation", "service")],
    ),
    Thread(
        LUIS,
        1,
        [
            ("in", "twilio_voice", "Hola, no puedo iniciar sesión en mi cuenta desde ayer."),
            (
                "ai",
                "Siento las molestias. Puedes restablecer tu contraseña en "
                "lumen-analytics.com/reset; el enlace es válido durante 1 hora.",
                {"sources": [{"article": "Restablecer la contraseña"}], "confidence": 0.88},
            ),
            ("in", "twilio_voice", "Ya lo intenté y no me llega el correo."),
            (
                "handoff",
                SUPPORT,
                "low_confidence",
                "Login problem; the reset email does not arrive (customer tried the reset link). "
                "Starter plan. Language: es — Lucía speaks Spanish.",
            ),
        ],
        topics=[("account.login", "support")],
    ),
    Thread(
        SARAH,
        72,
        [
            ("in", "twilio_whatsapp", "Could you send me the invoice for October as a PDF?"),
            (
                "ai",
                "Here is your October invoice (INV-2026-1031, 249.00 USD): you can also "
                "download it any time from Settings → Billing → Invoices.",
                {
                    "actions": [
                        {
                            "name": "get_invoice",
                            "result": {"id": "INV-2026-1031", "amount": "249.00"},
                        }
                    ],
                    "confidence": 0.97,
                },
            ),
            ("resolve",),
        ],
        topics=[("billing.invoice_copy", "service")],
    ),
    Thread(
        KWAME,
        50,
        [
            ("in", "webchat", "The CSV export has been timing out for large reports."),
            (
                "handoff",
                SUPPORT,
                "action_failed",
                "CSV export times out on large reports; the export status action timed out. "
                "Team plan (churned 2026-10-31). Language: en.",
            ),
            ("assign", "lucia.romero@lumen-analytics.com"),
            (
                "agent",
                "lucia.romero@lumen-analytics.com",
                "Hi Kwame, exports over 1M rows now run in the background and arrive by email. "
                "Could you try again?",
            ),
            ("in", "webchat", "That worked. Thanks!"),
            ("resolve",),
        ],
        topics=[("product.export", "support")],
    ),
]
