"""What the demo's generated history says: customers' names, questions per playbook topic,
the assistant's grounded answers, agents' replies, survey comments and the recurring
questions the knowledge base cannot answer (``history.py`` plays them)."""

from __future__ import annotations

from dataclasses import dataclass

FIRST_NAMES = [
    "Alex",
    "Amira",
    "Ana",
    "Arjun",
    "Beatriz",
    "Chloe",
    "Daniel",
    "David",
    "Elena",
    "Emma",
    "Fatima",
    "Felix",
    "Grace",
    "Hannah",
    "Hugo",
    "Ines",
    "Isaac",
    "Jamal",
    "Julia",
    "Karin",
    "Leo",
    "Lina",
    "Mateo",
    "Mei",
    "Nadia",
    "Noah",
    "Olivia",
    "Pablo",
    "Quinn",
    "Rafael",
    "Rosa",
    "Sam",
    "Sofia",
    "Theo",
    "Valentina",
    "Wei",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Adams",
    "Alvarez",
    "Bauer",
    "Brennan",
    "Carter",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Kaplan",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Novak",
    "Okoye",
    "Patel",
    "Quinlan",
    "Reyes",
    "Schmidt",
    "Silva",
    "Sullivan",
    "Torres",
    "Varga",
    "Walsh",
    "Yamamoto",
    "Zimmer",
]
PLANS = (("Starter", 29), ("Team", 99), ("Business", 249))
COMPANY_KINDS = ("Labs", "Retail", "Studio", "GmbH", "& Co")


@dataclass(frozen=True)
class TopicLines:
    """A playbook topic: its team, how customers ask, and the assistant's grounded answer
    (``source`` is ``article:<slug>:<title>`` or ``action:<name>``; none: human only)."""

    domain: str
    team: str
    questions: tuple[str, ...]
    answer: str = ""
    source: str = ""


BILLING = "Billing & Accounts"
SUPPORT = "Technical Support"

TOPICS: dict[str, TopicLines] = {
    "billing_double_charge": TopicLines(
        "service",
        BILLING,
        (
            "I think I was charged twice this month",
            "There are two identical payments from Lumen on my card",
            "Why did you bill me twice for November?",
        ),
        "I checked your payments: there is one charge of 99.00 USD on Nov 2 and no duplicate.",
        "action:check_charges",
    ),
    "refund_request": TopicLines(
        "service",
        BILLING,
        ("Please refund the duplicate charge", "Can you reverse the second payment?"),
        "I've filed the refund of the duplicate payment; it reaches your card in 5-10 days.",
        "action:request_duplicate_refund",
    ),
    "invoice_copy": TopicLines(
        "service",
        BILLING,
        (
            "Can I get a PDF of my last invoice?",
            "I need a copy of the October invoice for our accountant",
            "Where do I download my receipts?",
        ),
        "Here is your latest invoice as a PDF; all invoices are in Settings → Billing → Invoices.",
        "action:latest_invoice",
    ),
    "subscription_status": TopicLines(
        "service",
        BILLING,
        ("When does my subscription renew?", "Is my plan still active?"),
        "Your subscription is active and renews on the 2nd of next month.",
        "action:subscription_status",
    ),
    "order_status": TopicLines(
        "service",
        BILLING,
        ("Where is my order of the onboarding kit?", "Has my hardware order shipped yet?"),
        "Your order shipped on Monday and is due to arrive on Thursday.",
        "action:order_status",
    ),
    "annual_quote": TopicLines(
        "service",
        BILLING,
        ("How much would the annual Business plan cost us?", "Can I get a yearly quote?"),
        "An annual Business plan is billed as ten months: 2,490.00 USD a year.",
        "action:plan_quote",
    ),
    "plan_change": TopicLines(
        "service",
        BILLING,
        ("How do I upgrade from Starter to Team?", "Can we switch to annual billing?"),
        "You can change plan in Settings → Billing → Change plan; the change applies at once.",
        "article:changing-your-billing-period:Changing your billing period",
    ),
    "pricing": TopicLines(
        "service",
        BILLING,
        ("What does the Team plan include?", "How much is an extra seat?"),
        "Team is 99 USD a month for up to 10 seats; Business is 249 USD for up to 25.",
        "article:plans-and-prices:Plans and prices",
    ),
    "refund_policy": TopicLines(
        "service",
        BILLING,
        ("What is your refund policy?", "Do I get money back if I cancel mid-month?"),
        "Monthly plans are not refunded pro rata; duplicate charges are always refunded.",
        "article:refund-policy:Refund policy",
    ),
    "cancel_subscription": TopicLines(
        "service",
        BILLING,
        ("Please cancel my subscription", "We want to close our account at the end of the month"),
    ),
    "data_deletion": TopicLines(
        "service",
        BILLING,
        ("Please delete all our data", "I want my personal data erased under GDPR"),
    ),
    "account_members": TopicLines(
        "service",
        BILLING,
        ("How do I add a teammate?", "How can I remove a user who left the company?"),
        "Go to Settings → Members: invite by email, or open a member and choose Remove.",
        "article:inviting-teammates:Inviting teammates",
    ),
    "product_bug": TopicLines(
        "support",
        SUPPORT,
        (
            "The export button does nothing when I click it",
            "Charts on my dashboard show no data since yesterday",
            "The app crashes when I open a shared report",
        ),
    ),
    "login_help": TopicLines(
        "support",
        SUPPORT,
        ("I can't log in to my account", "I forgot my password"),
        "You can reset your password at lumen-analytics.com/reset; the link is valid for 1 hour.",
        "article:resetting-your-password:Resetting your password",
    ),
    "two_factor": TopicLines(
        "support",
        SUPPORT,
        ("How do I turn on two-factor authentication?", "I lost the phone with my 2FA codes"),
        "Turn it on in Profile → Security → Two-factor; keep the recovery codes it shows you.",
        "article:two-factor-authentication:Two-factor authentication",
    ),
    "api_errors": TopicLines(
        "support",
        SUPPORT,
        ("The API returns 429 errors", "Why do I get a 401 from the API?"),
        "429 means the rate limit (600 requests a minute) was hit; retry after the header's delay.",
        "article:api-rate-limits-and-errors:API rate limits and error codes",
    ),
    "integrations": TopicLines(
        "support",
        SUPPORT,
        ("How do I connect Google Sheets?", "Can I sync data from Postgres?"),
        "Open Data sources → Add, pick the connector and sign in; syncs run every hour.",
        "article:integrations:Integrations and data sources",
    ),
    "feature_request": TopicLines(
        "support",
        SUPPORT,
        ("Could you add dark mode?", "It would be great to schedule reports by email"),
    ),
}

# Recurring questions the knowledge base cannot answer, each asked several ways.
KNOWLEDGE_GAPS: tuple[tuple[str, str | None, str, str, tuple[str, ...]], ...] = (
    # reason, topic (None: no topic matched), team, label, the ways customers ask
    (
        "no_knowledge",
        None,
        SUPPORT,
        "SOC 2 report",
        (
            "Do you have a SOC 2 report?",
            "Is there a SOC2 certificate I can download?",
            "Our security team needs your SOC 2 Type II report",
            "Are you SOC 2 compliant?",
            "Can you share your SOC 2 audit report?",
            "Where can I find your SOC 2 compliance report?",
        ),
    ),
    (
        "ungrounded",
        "pricing",
        BILLING,
        "bank transfer",
        (
            "Can I pay by bank transfer?",
            "Can we pay by bank transfer instead of card?",
            "Is it possible to pay by bank transfer?",
            "Can we pay by wire transfer?",
            "Can I pay the annual plan by bank transfer?",
        ),
    ),
    (
        "low_confidence",
        "pricing",
        BILLING,
        "nonprofit discount",
        (
            "Do you offer a discount for nonprofits?",
            "Is there a nonprofit discount?",
            "We are a charity, do you have a nonprofit discount?",
            "Any discount for non-profit organisations?",
            "Do nonprofits get a discount on the Team plan?",
        ),
    ),
    (
        "no_knowledge",
        None,
        SUPPORT,
        "EU data hosting",
        (
            "Is our data hosted in the EU?",
            "Is our data stored in the EU? Where are your servers?",
            "Can we keep our data hosted in the EU only?",
            "Do you offer EU data hosting?",
        ),
    ),
)

ASK_FOR_HUMAN = (
    "Can I talk to a real person please?",
    "I'd rather speak to someone from your team.",
    "Please put me through to a human.",
)
ANGRY = (
    "This is the third time I'm asking and nothing works. Really frustrating.",
    "Honestly this is unacceptable, we pay for Business and it's broken again.",
    "I'm very annoyed, nobody answered my last email.",
)
ACTION_FAILED_NOTE = "the billing system did not answer in time"
THANKS = ("thanks!", "great, thank you", "perfect 👍", "ok got it, thanks", "that worked, thx")
WELCOME = "Glad I could help! Anything else, just write here."
HANDOFF_LINE = "I'm passing this to a colleague from {team}; they'll reply right here."
STILL_WAITING = ("Hello? I still need help: ", "Is anyone there? Again: ", "Still waiting. ")
NOT_RESTATING = ("ok", "ok thanks, I'll wait", "👍")
REOPEN_PREFIX = ("Sorry, it's me again. ", "Actually that didn't solve it. ")
REPEAT_PREFIX = ("I asked about this last week: ", "Following up on my earlier question. ")
AGENT_FIRST = (
    "Hi {first}, {agent} here. Thanks for waiting, I'm looking into it now.",
    "Hi {first}! {agent} from {team}. Let me check that for you.",
)
AGENT_TRANSFER = "I'm bringing in a colleague from {team} who can help with this."
AGENT_SOLVED = (
    "All sorted on our side. Could you check it works for you now?",
    "Done: I've fixed it on your account. Anything else I can do?",
    "I've taken care of it and noted it on your account.",
)
CUSTOMER_CONFIRMS = ("Yes, works now. Thanks!", "Great, thank you so much", "Perfect, thanks")

# By how happy the score says the customer is.
COMMENTS = {
    "happy": (
        "Super quick, thanks!",
        "The assistant solved it in a minute",
        "Friendly and helpful",
        "Great support as always",
    ),
    "neutral": ("Solved, but it took a while", "OK in the end", "Fine"),
    "unhappy": (
        "I had to explain everything twice",
        "Waited hours for an answer",
        "Got passed around between teams",
        "Still not happy with the billing",
    ),
}
