"""A reports workload: 90 days of support history, events included, written in bulk.

One workspace made through the actions (an admin and five agents, three teams, four
inboxes: WhatsApp, Messenger and webchat with the assistant on, SMS with it off;
business hours Monday to Saturday in Europe/Berlin), then, in bulk (Core executemany
on SQLite, ``COPY`` on PostgreSQL), contacts with their business attributes and
identities, and conversations with their messages, topics, surveys and every event the
real actions would have written for them, in the order they would have written them
(ids follow time). Each conversation is a script played by a random generator seeded from
``(seed, contact, ordinal)``, so a run is reproducible and independent of chunking.

The mix: about six conversations in ten resolved by the assistant alone; assistant
handoffs for several reasons, after which the customer sometimes restates what they
said; agents answering inside business hours; transfers between teams; reopens within
the workspace's 72-hour window; repeat contacts (a contact's next conversation, some
within 7 days of the last); CSAT on about a fifth of resolved conversations, NPS after
half of those answers. Replies on WhatsApp, Messenger and SMS get their ``sent`` and
``delivered`` status events, as the providers report them.
"""

from __future__ import annotations

import heapq
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Table, insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.seed import FIRST_NAMES, LAST_NAMES, SECRET_KEY
from onethread.agents.actions import do_create_agent, do_create_team
from onethread.contacts.models import Contact, ContactIdentity
from onethread.conversations.models import Conversation, ConversationTopic, Message
from onethread.db.base import Base
from onethread.db.database import Database
from onethread.events.models import Event
from onethread.inboxes.actions import do_create_inbox
from onethread.inboxes.models import IDENTITY_CHANNEL, AiMode, ChannelKind
from onethread.inboxes.secrets import SecretBox
from onethread.surveys.models import Survey
from onethread.workspaces.actions import do_create_workspace
from onethread.workspaces.schemas import OpeningHours, WorkspaceSettings

DAY = 86400.0
HOUR = 3600.0
HISTORY_DAYS = 90
CHUNK = 20_000
STILL_OPEN_DAYS, STILL_OPEN_SHARE = 4, 0.35
REOPEN_WINDOW = 72 * HOUR  # WorkspaceSettings.reopen_window_hours, the default
TIMEZONE = "Europe/Berlin"
OPENING = {day: (time(8), time(18)) for day in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": (time(9), time(13))
}
AGENTS = 5
# name: (domain, members as indexes into the agents)
TEAMS = {
    "Billing & Accounts": ("service", (0, 1)),
    "Customer Success": ("service", (1, 2)),
    "Technical Support": ("support", (3, 4)),
}
# channel, name, share of the contacts, whether the assistant answers there
INBOXES = (
    (ChannelKind.WHATSAPP, "WhatsApp", 0.45, True),
    (ChannelKind.MESSENGER, "Messenger", 0.20, True),
    (ChannelKind.WEBCHAT, "Website chat", 0.23, True),
    (ChannelKind.TWILIO_SMS, "SMS", 0.12, False),
)
INBOX_CONFIG: dict[ChannelKind, dict[str, Any]] = {
    ChannelKind.WHATSAPP: {"phone_number_id": "100200300"},
    ChannelKind.MESSENGER: {"page_id": "200300400"},
    ChannelKind.WEBCHAT: {},
    ChannelKind.TWILIO_SMS: {"account_sid": "AC" + "0" * 32, "sender": "+15550100200"},
}
LANGUAGES = {"en": 70, "es": 12, "fr": 10, "de": 8}
PLANS = {"free": (30, 0.0), "starter": (35, 29.0), "pro": (25, 99.0), "business": (10, 299.0)}

# topic: (domain, team, share, the customer's first messages, their follow-ups)
TOPICS: dict[str, tuple[str, str, int, tuple[str, ...], tuple[str, ...]]] = {
    "billing": (
        "service",
        "Billing & Accounts",
        16,
        (
            "I was charged twice for my subscription this month",
            "My card was billed two times for the same plan renewal",
            "Why did my monthly payment amount change without notice?",
        ),
        ("The second charge shows on my bank statement", "Card ending 4421, charged yesterday"),
    ),
    "refund": (
        "service",
        "Billing & Accounts",
        9,
        (
            "I would like a refund for the order that never arrived",
            "Please refund the annual payment, I cancelled within the trial period",
        ),
        ("Order number 58213, paid last Tuesday", "How many days does a refund usually take?"),
    ),
    "invoice": (
        "service",
        "Billing & Accounts",
        8,
        (
            "Where can I download the invoice for last month?",
            "The company address on my invoice is wrong, can you correct it?",
        ),
        ("We need the VAT number printed on invoices", "Accounting needs the PDF by Friday"),
    ),
    "plan_change": (
        "service",
        "Customer Success",
        9,
        (
            "Can I switch from the monthly plan to the annual plan?",
            "How do I upgrade our team to the business plan?",
        ),
        ("We have twelve seats at the moment", "Does the price change immediately?"),
    ),
    "cancellation": (
        "service",
        "Customer Success",
        7,
        (
            "Please cancel my subscription at the end of the current term",
            "How do I close my account and delete my data?",
        ),
        (
            "The tool is too expensive for our small shop",
            "Confirm the cancellation by email please",
        ),
    ),
    "login": (
        "support",
        "Technical Support",
        14,
        (
            "I cannot log in since yesterday, the password reset email never arrives",
            "The login page keeps saying my account is locked",
        ),
        ("I checked the spam folder already", "Tried two browsers and the mobile app"),
    ),
    "bug_report": (
        "support",
        "Technical Support",
        12,
        (
            "The app crashes when I open the settings page",
            "Saving a new product shows an error message about missing fields",
        ),
        ("It happens on Android version 14", "Screenshot attached, error code 500"),
    ),
    "integration": (
        "support",
        "Technical Support",
        8,
        (
            "The Shopify integration stopped syncing orders this morning",
            "Is there an API endpoint for exporting customer orders?",
        ),
        ("Webhook deliveries fail with a timeout", "We use the REST API with our own token"),
    ),
    "data_export": (
        "support",
        "Technical Support",
        7,
        (
            "How do I export all my customer data to a spreadsheet?",
            "The CSV export file is empty when I download it",
        ),
        ("About three thousand customer records", "The export button spins forever"),
    ),
    "performance": (
        "support",
        "Technical Support",
        10,
        (
            "The dashboard is extremely slow to load today",
            "Reports take minutes to open since the last update",
        ),
        ("Our office network speed is fine", "Slow for every colleague in the team"),
    ),
}
TOPIC_NAMES = tuple(TOPICS)
TOPIC_WEIGHTS = tuple(spec[2] for spec in TOPICS.values())
THANKS = ("Thanks, that solved it!", "Great, thank you", "Perfect, it works now", "ok thanks")
# After a handoff: a restatement repeats the opening message; the others add something new.
RESTATE_PREFIXES = ("As I said: ", "Like I wrote before, ", "Again, ")
WAITING = (
    "How long until someone from your team answers me?",
    "Need this sorted before tomorrow morning's meeting",
    "Is a real person going to reply today?",
)
AI_REPLIES = (
    "Here is how to do that: open Settings, then Billing, and follow the steps shown.",
    "I found the answer in our help center: the change applies from the next cycle.",
    "Could you tell me the email address on the account so I can check?",
    "Thanks, I can see your account. The details are in the link below.",
)
AGENT_REPLIES = (
    "Hi, this is support. I'm looking into it right now.",
    "I've checked your account and fixed it on our side; could you try again?",
    "Thanks for your patience, the correction is done.",
    "I've escalated this internally and will update you shortly.",
)
HANDOFF_REASONS = {  # reason: (share, assistant turns before it)
    "customer_requested_human": (30, (0, 1)),
    "low_confidence": (18, (0, 0)),
    "negative_sentiment": (12, (0, 2)),
    "human_only_topic": (14, (0, 0)),
    "action_failed": (8, (1, 2)),
    "no_knowledge": (10, (0, 1)),
    "max_ai_turns": (8, (3, 4)),
}
COMMENTS = (
    "Quick and helpful",
    "Took too long to get a person",
    "Had to explain everything twice",
    "Great service, thanks",
)
CSAT_WEIGHTS = {
    "ai": (3, 4, 10, 30, 53),
    "human": (6, 6, 12, 30, 46),
    "broken": (18, 17, 20, 25, 20),
}
NPS_WEIGHTS = (2, 1, 2, 3, 3, 5, 7, 12, 18, 22, 25)


@dataclass(frozen=True)
class InboxRef:
    id: int
    channel: str
    identity_channel: str
    ai: bool


@dataclass(frozen=True)
class Tenant:
    workspace_id: int
    admin_id: int
    token: str
    agent_ids: tuple[int, ...]
    teams: dict[str, tuple[int, str, tuple[int, ...]]]  # name: (id, domain, member agent ids)
    inboxes: tuple[InboxRef, ...]


@dataclass(frozen=True)
class Customer:
    index: int
    id: int
    identity_id: int
    inbox: InboxRef
    language: str


@dataclass
class Step:
    """What one unit of work wrote at ``at``: maybe a message, events, a state change."""

    at: float
    message: dict[str, Any] | None = None
    events: list[tuple[str, dict[str, Any], int | None]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    topics: list[tuple[str, str]] | None = None
    survey: dict[str, Any] | None = None
    survey_done: bool = False
    refers: Step | None = None  # the step whose message a status report is about
    message_id: int | None = None  # given when written


@dataclass
class Seeded:
    """Rows written per table, the seconds it took, of them the inserts' per table."""

    rows: dict[str, int]
    seconds: float
    insert_seconds: dict[str, float]


async def create_tenant(db: Database) -> Tenant:
    """Workspace, admin token, agents, teams and inboxes through the actions."""
    hours = [OpeningHours(day=d, start=s, end=e) for d, (s, e) in OPENING.items()]
    settings = WorkspaceSettings(timezone=TIMEZONE, business_hours=hours)
    async with db.session() as session:
        created = await do_create_workspace(
            session,
            name="Reports bench",
            admin_email="admin@reports.test",
            admin_password="bench password",
            settings=settings,
        )
        workspace_id, admin_id = created.workspace.id, created.admin.id
        agents = [
            await do_create_agent(
                session, workspace_id, email=f"agent{n}@reports.test", name=f"Agent {n}"
            )
            for n in range(AGENTS)
        ]
        teams = {}
        for name, (domain, members) in TEAMS.items():
            member_ids = tuple(agents[n].id for n in members)
            team = await do_create_team(
                session,
                workspace_id,
                name=name,
                domain=domain,
                member_ids=list(member_ids),
                by_agent_id=admin_id,
            )
            teams[name] = (team.id, domain, member_ids)
        inboxes = []
        for channel, name, _share, ai in INBOXES:
            inbox = await do_create_inbox(
                session,
                workspace_id,
                SecretBox(SECRET_KEY),
                channel=channel,
                name=name,
                config=INBOX_CONFIG[channel],
                ai_mode=AiMode.AUTO if ai else AiMode.OFF,
                by_agent_id=admin_id,
            )
            inboxes.append(InboxRef(inbox.id, channel.value, IDENTITY_CHANNEL[channel], ai))
    return Tenant(
        workspace_id,
        admin_id,
        created.token,
        tuple(agent.id for agent in agents),
        teams,
        tuple(inboxes),
    )


# --- one conversation as a script -------------------------------------------------------


class BusinessHours:
    """When the agents are at work (the workspace's opening hours)."""

    def __init__(self) -> None:
        self.zone = ZoneInfo(TIMEZONE)
        self.days = [OPENING.get(day) for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]

    def next_open(self, at: float) -> float:
        """``at`` if the workspace is open then, else the next opening."""
        local = datetime.fromtimestamp(at, self.zone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            hours = self.days[day.weekday()]
            if hours is None:
                continue
            opens = datetime.combine(day, hours[0], self.zone).timestamp()
            closes = datetime.combine(day, hours[1], self.zone).timestamp()
            if at < closes:
                return max(at, opens)
        raise AssertionError("the workspace opens every week")


class Script:
    """One conversation played step by step; ``steps`` is what the actions would write."""

    def __init__(
        self,
        rng: random.Random,
        tenant: Tenant,
        customer: Customer,
        hours: BusinessHours,
        start: float,
        ordinal: int,
        previous_id: int | None,
    ) -> None:
        self.rng, self.tenant, self.customer, self.hours = rng, tenant, customer, hours
        self.at = start
        self.steps: list[Step] = []
        self.handler = "ai"
        self.assignee: int | None = None
        self.team: int | None = None
        self.topic = rng.choices(TOPIC_NAMES, weights=TOPIC_WEIGHTS)[0]
        self.opener = rng.choice(TOPICS[self.topic][3])
        self.messages = 0
        self.restated = False
        self.transferred = False
        self.first_of_contact = ordinal == 0
        self.previous_id = previous_id

    # the primitives: each is what one action writes

    def step(self, delay: float = 0.0, **kwargs: Any) -> Step:
        self.at += delay
        step = Step(self.at, **kwargs)
        self.steps.append(step)
        return step

    def _message(
        self,
        direction: str,
        sender_kind: str,
        text: str,
        *,
        agent_id: int | None = None,
        private: bool = False,
        delivery_status: str | None = None,
    ) -> dict[str, Any]:
        """A message row, less what is given when it is written (ids, time)."""
        self.messages += 1
        return {
            "inbox_id": None if private else self.customer.inbox.id,
            "direction": direction,
            "sender_kind": sender_kind,
            "sender_agent_id": agent_id,
            "identity_id": None if private else self.customer.identity_id,
            "text": text,
            "private": private,
            "delivery_status": delivery_status,
            "external": direction == "in",
        }

    def customer_writes(self, text: str, outcome: str, delay: float) -> None:
        step = self.step(delay, message=self._message("in", "contact", text))
        inbox = self.customer.inbox
        data = {"inbox_id": inbox.id, "channel": inbox.channel, "outcome": outcome}
        step.events.append(("message.received", {**data, "attachments": 0}, None))

    def reply(self, sender_kind: str, text: str, delay: float, agent: int | None = None) -> Step:
        inbox = self.customer.inbox
        tracked = inbox.channel != ChannelKind.WEBCHAT.value
        message = self._message(
            "out",
            sender_kind,
            text,
            agent_id=agent,
            delivery_status="delivered" if tracked else "queued",
        )
        step = self.step(delay, message=message)
        data = {"sender_kind": sender_kind, "inbox_id": inbox.id, "channel": inbox.channel}
        step.events.append(("message.created", {**data, "private": False}, agent))
        if tracked:
            for status, previous in (("sent", "queued"), ("delivered", "sent")):
                change = {"status": status, "previous": previous, "error_code": None, "error": None}
                report = [("message.status_changed", change, None)]
                self.step(self.rng.uniform(0.5, 4), events=report, refers=step)
        return step

    def decided(self, step: Step, outcome: str, reason: str, **extra: Any) -> None:
        topics = [self.topic] if outcome != "silent" else []
        record = {
            "outcome": outcome,
            "reason": reason,
            "language": self.customer.language if outcome != "silent" else None,
            "topics": [{"name": t, "confidence": 0.82} for t in topics],
            "slots": {},
            "sentiment": round(self.rng.uniform(-0.6, 0.4), 3) if outcome != "silent" else None,
            "sources": [{"article_id": 1, "chunk": 0}] if outcome == "reply" else [],
            "actions": [],
            "handed_off": extra.get("handed_off", []),
            "asked": outcome == "ask",
            "draft": False,
            "phrased_by_model": False,
            "timings_ms": {"total": round(self.rng.uniform(300, 2500), 2)},
        }
        step.events.append(("assistant.decided", record, None))

    def set_topics(self, step: Step, by: int | None) -> None:
        domain = TOPICS[self.topic][0]
        data = {
            "topics": [{"name": self.topic, "domain": domain}],
            "language": self.customer.language,
        }
        step.events.insert(0, ("conversation.topics_changed", data, by))
        step.topics = [(self.topic, domain)]

    def assistant_turn(self, outcome: str = "reply") -> None:
        step = self.reply("ai", self.rng.choice(AI_REPLIES), self.rng.uniform(2, 9))
        if not self.steps_have_topics():
            self.set_topics(step, None)
        self.decided(step, outcome, "grounded" if outcome == "reply" else "missing_slot")

    def steps_have_topics(self) -> bool:
        return any(step.topics for step in self.steps)

    def silent(self, reason: str) -> None:
        self.decided(self.step(self.rng.uniform(0.2, 1)), "silent", reason)

    def assign(self, agent: int, *, auto: bool, by: int | None) -> None:
        data = {"assignee_id": agent, "previous_assignee_id": self.assignee, "auto": auto}
        self.step(0.01, events=[("conversation.assigned", data, by)], state={"assignee_id": agent})
        self.assignee = agent

    def agent_pickup(self, urgent_minutes: float) -> int:
        """The first human reply, inside business hours; the agent takes the thread."""
        team = self.tenant.teams[TOPICS[self.topic][1]] if self.team else None
        agent = self.assignee or self.rng.choice(team[2] if team else self.tenant.agent_ids)
        wait = self.rng.lognormvariate(0, 0.9) * urgent_minutes * 60
        self.at = self.hours.next_open(self.at + wait) + self.rng.uniform(10, 120)
        if self.handler == "ai":
            data = {"reason": "agent_replied", "team_id": self.team, "by": "agent"}
            self.step(events=[("handoff.requested", data, agent)], state={"handler": "human"})
            self.handler = "human"
        if self.assignee is None:
            self.assign(agent, auto=True, by=agent)
        self.reply("agent", self.rng.choice(AGENT_REPLIES), 0.01, agent)
        return agent

    def agent_reply(self) -> None:
        self.at = self.hours.next_open(self.at + self.rng.uniform(30, 600))
        self.reply("agent", self.rng.choice(AGENT_REPLIES), 0.0, self.assignee)

    def customer_follow_up(self) -> None:
        self.customer_writes(self.rng.choice(TOPICS[self.topic][4]), "joined", self.think())

    def think(self) -> float:
        return self.rng.uniform(15, 400)

    def resolve(self, by: int | None, delay: float) -> None:
        data: dict[str, Any] = {"handler": self.handler, "by": "agent" if by else "ai"}
        data |= {"assignee_id": self.assignee, "team_id": self.team}
        state = {"status": "resolved"}
        self.step(delay, events=[("conversation.resolved", data, by)], state=state)

    # the plots

    def play(self, budget: int) -> None:
        first = self.step()
        if self.first_of_contact:
            channel = self.customer.inbox.identity_channel
            link = {"identity_id": self.customer.identity_id, "channel": channel, "linked_by": None}
            first.events.append(("contact.created", {"name": None, "channel": channel}, None))
            first.events.append(("contact.identity_linked", link, None))
        created = {"previous_conversation_id": self.previous_id}
        first.events.append(("conversation.created", created, None))
        self.customer_writes(self.opener, "created", 0.0)
        if not self.customer.inbox.ai:
            self.silent("ai_off")
            self.human_plot(budget)
        else:
            roll = self.rng.random()
            if roll < 0.69:
                self.ai_plot(budget)
            elif roll < 0.96:
                self.handoff_plot(budget)
            else:
                self.assistant_turn()
                self.human_plot(budget)
        self.maybe_reopen()
        self.maybe_survey()

    def ai_plot(self, budget: int) -> None:
        self.assistant_turn("reply" if self.rng.random() < 0.8 else "ask")
        while self.messages < budget - 2:
            self.customer_follow_up()
            self.assistant_turn()
        if self.messages < budget:
            self.customer_writes(self.rng.choice(THANKS), "joined", self.think())
            self.assistant_turn()
        self.resolve(None, self.rng.uniform(60, 1800))

    def handoff_plot(self, budget: int) -> None:
        reasons = list(HANDOFF_REASONS)
        reason = self.rng.choices(reasons, weights=[HANDOFF_REASONS[r][0] for r in reasons])[0]
        low, high = HANDOFF_REASONS[reason][1]
        for _ in range(self.rng.randint(low, high)):
            self.assistant_turn()
            self.customer_follow_up()
        team_name = TOPICS[self.topic][1]
        team_id, domain, members = self.tenant.teams[team_name]
        step = self.reply(
            "ai", f"I've passed this to our {team_name} team.", self.rng.uniform(2, 9)
        )
        if not self.steps_have_topics():
            self.set_topics(step, None)
        topics = [{"name": self.topic, "domain": domain}]
        handoff = {"reason": reason, "team_id": team_id, "by": "ai", "topics": topics}
        step.events.append(("handoff.requested", handoff, None))
        step.state |= {"handler": "human", "team_id": team_id}
        self.handler, self.team = "human", team_id
        note = self.step(
            0.01, message=self._message("out", "ai", f"Handoff: {reason}", private=True)
        )
        note.events.append(("note.added", {"mentions": [], "sender_kind": "ai"}, None))
        self.decided(note, "handoff", reason, handed_off=[{"topic": self.topic, "reason": reason}])
        if self.rng.random() < 0.55:
            self.assign(self.rng.choice(members), auto=True, by=None)
        if self.rng.random() < 0.7:
            self.restated = self.rng.random() < 0.4
            text = (
                self.rng.choice(RESTATE_PREFIXES) + self.opener
                if self.restated
                else self.rng.choice(WAITING)
            )
            self.customer_writes(text, "joined", self.rng.uniform(20, 900))
            self.silent("human_handles")
        self.human_exchange(budget, urgent_minutes=12)

    def human_plot(self, budget: int) -> None:
        self.human_exchange(budget, urgent_minutes=20)

    def human_exchange(self, budget: int, urgent_minutes: float) -> None:
        agent = self.agent_pickup(urgent_minutes)
        if not self.steps_have_topics() and self.rng.random() < 0.7:
            self.set_topics(self.step(self.rng.uniform(5, 60)), agent)
        transfer_at = budget // 2 if self.rng.random() < 0.12 else -1
        while self.messages < budget:
            self.customer_follow_up()
            if self.customer.inbox.ai is False:
                self.silent("ai_off")
            else:
                self.silent("human_handles")
            if self.messages == transfer_at or self.messages - 1 == transfer_at:
                self.transfer(agent)
                agent = self.agent_pickup(urgent_minutes)
            else:
                self.agent_reply()
        self.resolve(self.assignee, self.rng.uniform(120, 3600))

    def transfer(self, by: int) -> None:
        current = TOPICS[self.topic][1]
        name = self.rng.choice([team for team in self.tenant.teams if team != current])
        team_id, domain, _members = self.tenant.teams[name]
        data = {"team_id": team_id, "previous_team_id": self.team, "domain": domain}
        state = {"team_id": team_id, "assignee_id": None}
        self.step(
            self.rng.uniform(30, 300), events=[("conversation.transferred", data, by)], state=state
        )
        self.team, self.assignee, self.transferred = team_id, None, True
        self.topic = self.rng.choice([t for t, spec in TOPICS.items() if spec[1] == name])

    def maybe_reopen(self) -> None:
        if self.rng.random() >= (0.10 if self.handler == "human" else 0.06):
            return
        resolved_at = datetime.fromtimestamp(self.at, UTC).isoformat()
        data = {"by": "message", "resolved_at": resolved_at}
        reopen = self.step(self.rng.uniform(HOUR, 48 * HOUR))
        reopen.events.append(("conversation.reopened", data, None))
        reopen.state["status"] = "open"
        self.customer_writes("It is broken again, " + self.opener.lower(), "reopened", 0.0)
        if self.handler == "ai":
            self.assistant_turn()
            self.resolve(None, self.rng.uniform(60, 1800))
        else:
            self.silent("human_handles")
            self.agent_reply()
            self.resolve(self.assignee, self.rng.uniform(120, 3600))

    def maybe_survey(self) -> None:
        if self.rng.random() >= 0.3:
            return
        plot = "broken" if self.restated or self.transferred else self.handler
        score = self.rng.choices(range(1, 6), weights=CSAT_WEIGHTS[plot])[0]
        answered = self.ask("csat", "How would you rate our help today? Reply 1 to 5.", score)
        if answered and self.rng.random() < 0.5:
            nps = self.rng.choices(range(11), weights=NPS_WEIGHTS)[0]
            self.ask("nps", "How likely are you to recommend us, from 0 to 10?", nps)

    def ask(self, kind: str, question: str, score: int) -> bool:
        inbox = self.customer.inbox
        survey = {"kind": kind, "handler": self.handler, "inbox_id": inbox.id}
        survey |= {"channel": inbox.channel, "asked_at": self.at + 5}
        step = self.reply("system", question, 5.0)
        step.survey = survey
        asked = {"kind": kind, "channel": inbox.channel, "inbox_id": inbox.id}
        step.events.append(("survey.asked", asked, None))
        if self.rng.random() >= 2 / 3:
            step.survey_done = True
            return False
        comment = self.rng.choice(COMMENTS) if self.rng.random() < 0.3 else None
        survey |= {"score": score, "comment": comment}
        reply = f"{score}" + (f" - {comment}" if comment else "")
        self.customer_writes(reply, "survey_answer", self.rng.uniform(30, 1800))
        answer = self.steps[-1]
        answer.survey, answer.survey_done = survey, True
        data = {"kind": kind, "score": score, "comment": comment, "handler": self.handler}
        answer.events.append(("survey.answered", data, None))
        return True


def play(
    seed: int,
    tenant: Tenant,
    customer: Customer,
    hours: BusinessHours,
    ordinal: int,
    start: float,
    budget_mean: int,
    now: float,
    previous_id: int | None = None,
) -> tuple[list[Step], bool]:
    """The steps of ``customer``'s ``ordinal``-th conversation (reproducible), and whether
    it is left open: a third of the recent ones stop before their resolution."""
    rng = random.Random(f"{seed}:{customer.index}:{ordinal}")
    # Reopens, surveys and notes add about one message to the budget on average.
    mean = max(2, budget_mean - 1)
    budget = rng.randint(max(2, mean // 2), mean + mean // 2)
    script = Script(rng, tenant, customer, hours, start, ordinal, previous_id)
    script.play(budget)
    steps = sorted(script.steps, key=lambda step: step.at)
    if start > now - STILL_OPEN_DAYS * DAY and rng.random() < STILL_OPEN_SHARE:
        resolution = next(i for i, step in enumerate(steps) if step.state.get("status"))
        return steps[: rng.randint(2, resolution)], True
    return steps, False


# --- the history: who writes when, then every row in time order -------------------------


@dataclass(frozen=True, order=True)
class Planned:
    start: float
    contact: int
    ordinal: int


def plan(
    seed: int,
    tenant: Tenant,
    customers: list[Customer],
    hours: BusinessHours,
    count: int,
    budget_mean: int,
    now: float,
) -> list[Planned]:
    """``count`` conversation starts spread evenly over the history, a few per contact.

    A contact's starts are drawn at random over the history, but each one after the reopen
    window that follows the contact's previous resolution (earlier, the message would
    reopen it): repeat contacts within 7 days come out of the draw. A conversation still
    open at ``now`` ends its contact's turn; the starts it displaced go to other contacts
    with time left.
    """
    rng = random.Random(f"{seed}:plan")
    weights = [rng.lognormvariate(0, 0.8) for _ in customers]
    counts = [1] * len(customers)
    for index in rng.choices(range(len(customers)), weights=weights, k=count - len(customers)):
        counts[index] += 1
    planned: list[Planned] = []
    ends: dict[int, tuple[float, int]] = {}  # contact: (end of its last conversation, next ordinal)
    first, last = now - HISTORY_DAYS * DAY, now - HOUR
    displaced = 0
    for customer, wanted in zip(customers, counts, strict=True):
        earliest = first
        for ordinal, drawn in enumerate(sorted(rng.uniform(first, last) for _ in range(wanted))):
            at = max(daytime(rng, drawn), earliest)
            if at >= last:
                displaced += wanted - ordinal
                break
            end = _place(seed, tenant, customer, hours, ordinal, at, budget_mean, now, planned)
            if end is None:  # still open: the contact can start no other
                ends.pop(customer.index, None)
                displaced += wanted - ordinal - 1
                break
            ends[customer.index] = (end, ordinal + 1)
            earliest = end + REOPEN_WINDOW + HOUR
    while displaced > 0 and ends:
        index = rng.choice(list(ends))
        end, ordinal = ends.pop(index)
        if end + REOPEN_WINDOW + HOUR >= last:
            continue  # no time left for this contact
        at = rng.uniform(end + REOPEN_WINDOW + HOUR, last)
        next_end = _place(
            seed, tenant, customers[index], hours, ordinal, at, budget_mean, now, planned
        )
        displaced -= 1
        if next_end is not None:
            ends[index] = (next_end, ordinal + 1)
    planned.sort()
    return planned


def _place(
    seed: int,
    tenant: Tenant,
    customer: Customer,
    hours: BusinessHours,
    ordinal: int,
    at: float,
    budget_mean: int,
    now: float,
    planned: list[Planned],
) -> float | None:
    """Plan one conversation at ``at``; its last step, or None if it is still open."""
    planned.append(Planned(at, customer.index, ordinal))
    steps, still_open = play(seed, tenant, customer, hours, ordinal, at, budget_mean, now)
    end = steps[-1].at
    return None if still_open or end >= now else end


def daytime(rng: random.Random, at: float) -> float:
    """Customers write less at night: most night starts move to the morning."""
    hour = datetime.fromtimestamp(at, UTC).hour
    return at + 8 * HOUR if (hour >= 22 or hour < 6) and rng.random() < 0.8 else at


class Writer:
    """Buffers rows per table and inserts them in chunks, parents first."""

    ORDER = (Conversation, ConversationTopic, Message, Survey, Event)

    def __init__(self, db: Database, first_ids: dict[str, int]) -> None:
        self.db = db
        self.next_ids = dict(first_ids)
        self.rows: dict[type[Base], list[dict[str, Any]]] = {model: [] for model in self.ORDER}
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def new_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def add(self, model: type[Base], row: dict[str, Any]) -> None:
        self.rows[model].append(row)

    @property
    def pending(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    async def flush(self) -> None:
        async with self.db.engine.begin() as connection:
            for model in self.ORDER:
                rows = self.rows[model]
                if rows:
                    started = perf_counter()
                    await bulk_insert(connection, model, rows)
                    name = model.__tablename__
                    self.counts[name] = self.counts.get(name, 0) + len(rows)
                    self.seconds[name] = self.seconds.get(name, 0.0) + perf_counter() - started
                    self.rows[model] = []


async def bulk_insert(
    connection: AsyncConnection, model: type[Base], rows: list[dict[str, Any]]
) -> None:
    """Executemany on SQLite; ``COPY`` on PostgreSQL (asyncpg's binary copy)."""
    table: Table = model.__table__  # type: ignore[assignment]
    if connection.dialect.name == "postgresql":
        await copy_rows(connection, table, rows)
        return
    for start in range(0, len(rows), CHUNK):
        await connection.execute(insert(table), rows[start : start + CHUNK])


async def copy_rows(connection: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    documents = {column.name for column in table.columns if isinstance(column.type, JSON)}
    records = [
        tuple(json.dumps(row[name]) if name in documents else row[name] for name in columns)
        for row in rows
    ]
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(table.name, records=records, columns=columns)


def at_utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


MESSAGE_EVENTS = frozenset(
    {"message.received", "message.created", "note.added", "survey.asked", "survey.answered"}
)


class History:
    """Plays every planned conversation and writes its rows, all tables in time order."""

    def __init__(
        self, writer: Writer, tenant: Tenant, customers: list[Customer], now: float
    ) -> None:
        self.writer, self.tenant, self.customers, self.now = writer, tenant, customers, now
        self.queue: list[tuple[float, int, int, int, Step]] = []
        self.sequence = 0

    async def write(
        self, seed: int, planned: list[Planned], hours: BusinessHours, budget: int
    ) -> None:
        previous: dict[int, int] = {}  # contact index: its last conversation id
        for entry in planned:
            await self.release(entry.start)
            customer = self.customers[entry.contact]
            conversation_id = self.writer.new_id("conversations")
            steps, _open = play(
                seed,
                self.tenant,
                customer,
                hours,
                entry.ordinal,
                entry.start,
                budget,
                self.now,
                previous.get(entry.contact),
            )
            previous[entry.contact] = conversation_id
            kept = [step for step in steps if step.at <= self.now]
            self.conversation_rows(conversation_id, customer, kept)
            for step in kept:
                heapq.heappush(
                    self.queue, (step.at, self.sequence, conversation_id, customer.id, step)
                )
                self.sequence += 1
        await self.release(float("inf"))
        await self.writer.flush()

    async def release(self, before: float) -> None:
        """Write every queued step earlier than ``before`` (nothing later can precede them)."""
        while self.queue and self.queue[0][0] < before:
            _at, _sequence, conversation_id, contact_id, step = heapq.heappop(self.queue)
            self.write_step(conversation_id, contact_id, step)
            if self.writer.pending >= CHUNK:
                await self.writer.flush()

    def write_step(self, conversation_id: int, contact_id: int, step: Step) -> None:
        writer, workspace_id, created = self.writer, self.tenant.workspace_id, at_utc(step.at)
        if step.message is not None:
            step.message_id = writer.new_id("messages")
            message = dict(step.message)
            inbound = message.pop("external")
            writer.add(
                Message,
                message
                | {
                    "id": step.message_id,
                    "workspace_id": workspace_id,
                    "conversation_id": conversation_id,
                    "attachments": [],
                    "interactive": None,
                    "external_id": f"seed.{step.message_id}" if inbound else None,
                    "delivery_error_code": None,
                    "delivery_error": None,
                    "ai_meta": None,
                    "sent_at": None,
                    "created_at": created,
                },
            )
        referred = step.refers.message_id if step.refers is not None else None
        for kind, data, agent_id in step.events:
            about_contact = kind.startswith("contact.")
            writer.add(
                Event,
                {
                    "id": writer.new_id("events"),
                    "workspace_id": workspace_id,
                    "type": kind,
                    "conversation_id": None if about_contact else conversation_id,
                    "contact_id": contact_id,
                    "message_id": step.message_id if kind in MESSAGE_EVENTS else referred,
                    "agent_id": agent_id,
                    "data": data,
                    "created_at": created,
                },
            )
        if step.survey is not None:
            self.survey_step(conversation_id, step)

    def survey_step(self, conversation_id: int, step: Step) -> None:
        survey = step.survey
        assert survey is not None
        if "question_message_id" not in survey:
            survey["question_message_id"] = step.message_id
        else:
            survey["answer_message_id"] = step.message_id
            survey["answered_at"] = at_utc(step.at)
        if not step.survey_done:
            return
        answered = "answer_message_id" in survey
        self.writer.add(
            Survey,
            {
                "workspace_id": self.tenant.workspace_id,
                "conversation_id": conversation_id,
                "kind": survey["kind"],
                "status": "answered" if answered else "asked",
                "reason": None,
                "handler": survey["handler"],
                "inbox_id": survey["inbox_id"],
                "channel": survey["channel"],
                "question_message_id": survey["question_message_id"],
                "asked_at": at_utc(survey["asked_at"]),
                "score": survey.get("score") if answered else None,
                "comment": survey.get("comment") if answered else None,
                "answer_message_id": survey.get("answer_message_id"),
                "answered_at": survey.get("answered_at"),
                "created_at": at_utc(survey["asked_at"]),
            },
        )

    def conversation_rows(self, conversation_id: int, customer: Customer, kept: list[Step]) -> None:
        """The conversation as it stands at ``now``, and its topics."""
        last_step_of: dict[int, Step] = {}
        for step in kept:
            if step.survey is not None:
                last_step_of[id(step.survey)] = step
        for step in last_step_of.values():
            step.survey_done = True
        row: dict[str, Any] = {
            "id": conversation_id,
            "workspace_id": self.tenant.workspace_id,
            "contact_id": customer.id,
            "status": "open",
            "handler": "ai",
            "assignee_id": None,
            "team_id": None,
            "priority": "normal",
            "language": customer.language,
            "subject": None,
            "last_inbox_id": customer.inbox.id,
            "last_message_at": kept[0].at,
            "last_inbound_at": kept[0].at,
            "snoozed_until": None,
            "resolved_at": None,
            "ai_turns": 0,
            "merged_into_id": None,
            "created_at": kept[0].at,
        }
        topics: list[tuple[str, str]] = []
        for step in kept:
            message = step.message
            if message is not None and not message["private"]:
                row["last_message_at"] = step.at
                if message["direction"] == "in":
                    row["last_inbound_at"] = step.at
                elif message["sender_kind"] == "ai":
                    row["ai_turns"] += 1
            for key in ("handler", "team_id", "assignee_id"):
                if key in step.state:
                    row[key] = step.state[key]
            if step.state.get("status") == "resolved":
                row["status"], row["resolved_at"] = "resolved", step.at
            elif step.state.get("status") == "open":
                row["status"], row["resolved_at"] = "open", None
            topics = step.topics or topics
        for key in ("last_message_at", "last_inbound_at", "created_at", "resolved_at"):
            row[key] = None if row[key] is None else at_utc(row[key])
        self.writer.add(Conversation, row)
        for name, domain in topics:
            self.writer.add(
                ConversationTopic,
                {
                    "id": self.writer.new_id("conversation_topics"),
                    "workspace_id": self.tenant.workspace_id,
                    "conversation_id": conversation_id,
                    "name": name,
                    "domain": domain,
                },
            )


# --- contacts ---------------------------------------------------------------------------


def contact_attributes(rng: random.Random, today: date) -> dict[str, Any]:
    """A customer's business facts; one contact in ten is not a customer (no attributes)."""
    if rng.random() < 0.1:
        return {}
    plan_name = rng.choices(list(PLANS), weights=[spec[0] for spec in PLANS.values()])[0]
    since = today - timedelta(days=int(rng.triangular(1, 6 * 365, 200)))
    monthly = round(PLANS[plan_name][1] * rng.uniform(0.8, 1.6), 2) if PLANS[plan_name][1] else 0.0
    attributes: dict[str, Any] = {"plan": plan_name, "customer_since": since.isoformat()}
    months = (today - since).days / 30.4
    churned = None
    if rng.random() < 0.09:
        churned = since + timedelta(days=rng.randint(0, (today - since).days))
        if rng.random() < 0.35:  # a third of the churn in the reported quarter
            churned = max(since, today - timedelta(days=rng.randint(0, HISTORY_DAYS)))
        months = (churned - since).days / 30.4
        attributes["churned_at"] = churned.isoformat()
    attributes["monthly_revenue"] = monthly
    attributes["lifetime_revenue"] = round(monthly * months * rng.uniform(0.9, 1.1), 2)
    return attributes


def make_customers(
    seed: int,
    tenant: Tenant,
    count: int,
    first_contact_id: int,
    first_identity_id: int,
    now: float,
) -> tuple[list[Customer], list[dict[str, Any]], list[dict[str, Any]]]:
    """The contacts, their rows and their identities' rows (one identity each), but for
    ``created_at``, which is when they first wrote."""
    rng = random.Random(f"{seed}:contacts")
    today = at_utc(now).date()
    shares = [share for _channel, _name, share, _ai in INBOXES]
    customers, contacts, identities = [], [], []
    for index in range(count):
        inbox = rng.choices(tenant.inboxes, weights=shares)[0]
        language = rng.choices(list(LANGUAGES), weights=list(LANGUAGES.values()))[0]
        customer = Customer(
            index, first_contact_id + index, first_identity_id + index, inbox, language
        )
        customers.append(customer)
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        name = f"{first} {LAST_NAMES[index // len(FIRST_NAMES) % len(LAST_NAMES)]}"
        phone = f"+1555{index:07d}"
        email = f"{name.replace(' ', '.').lower()}{index}@example.com"
        contacts.append(
            {
                "id": customer.id,
                "workspace_id": tenant.workspace_id,
                "name": name,
                "phone": phone,
                "email": email,
                "language": language,
                "attributes": contact_attributes(rng, today),
                "merged_into_id": None,
            }
        )
        external = {
            "whatsapp": phone.removeprefix("+"),
            "sms": phone,
            "webchat": f"visitor-{index}",
        }
        identities.append(
            {
                "id": customer.identity_id,
                "workspace_id": tenant.workspace_id,
                "contact_id": customer.id,
                "channel": inbox.identity_channel,
                "external_id": external.get(inbox.identity_channel, f"psid-{index}"),
                "display_name": name,
                "phone": phone if inbox.identity_channel in ("whatsapp", "sms") else None,
                "email": None,
                "verified": inbox.identity_channel in ("whatsapp", "sms"),
                "details": {},
            }
        )
    return customers, contacts, identities


# --- the whole seed ---------------------------------------------------------------------

ID_TABLES = (
    "contacts",
    "contact_identities",
    "conversations",
    "conversation_topics",
    "messages",
    "events",
)


async def first_ids(db: Database) -> dict[str, int]:
    async with db.engine.connect() as connection:
        return {
            name: int(await connection.scalar(text(f"SELECT coalesce(max(id), 0) FROM {name}"))) + 1
            for name in ID_TABLES
        }


async def seed_history(
    db: Database,
    tenant: Tenant,
    *,
    conversations: int,
    messages_per_conversation: int,
    contacts: int,
    seed: int = 7,
) -> Seeded:
    """Write the history; the rows per table and the seconds it took."""
    started = perf_counter()
    # The history ends at the last UTC midnight: the same seed writes the same rows all day.
    now = datetime.combine(datetime.now(UTC).date(), time(), UTC).timestamp()
    hours = BusinessHours()
    ids = await first_ids(db)
    contacts = max(1, min(contacts, conversations))
    customers, contact_rows, identity_rows = make_customers(
        seed, tenant, contacts, ids["contacts"], ids["contact_identities"], now
    )
    planned = plan(seed, tenant, customers, hours, conversations, messages_per_conversation, now)
    first_seen: dict[int, float] = {}
    for entry in planned:
        first_seen.setdefault(entry.contact, entry.start)
    for customer, contact, identity in zip(customers, contact_rows, identity_rows, strict=True):
        created = at_utc(first_seen.get(customer.index, now))  # when they first wrote
        contact["created_at"] = contact["updated_at"] = identity["created_at"] = created
    async with db.engine.begin() as connection:
        await bulk_insert(connection, Contact, contact_rows)
        await bulk_insert(connection, ContactIdentity, identity_rows)
    writer = Writer(db, ids)
    await History(writer, tenant, customers, now).write(
        seed, planned, hours, messages_per_conversation
    )
    # The tenant's own events (workspace, agents, teams, inboxes) were just written; date
    # them before the history, as a workspace 90 days old would have them, so that the log
    # is in time order like a real one (the projection's cursor relies on it).
    async with db.engine.begin() as connection:
        await connection.execute(
            update(Event)
            .where(Event.workspace_id == tenant.workspace_id, Event.id < ids["events"])
            .values(created_at=at_utc(now - (HISTORY_DAYS + 1) * DAY))
        )
    if not db.is_sqlite:
        async with db.engine.begin() as connection:
            for name in ID_TABLES:
                sequence = f"pg_get_serial_sequence('{name}', 'id')"
                await connection.execute(
                    text(f"SELECT setval({sequence}, (SELECT coalesce(max(id), 1) FROM {name}))")
                )
            # The tables written here, as autovacuum would soon; not the projection's, which
            # are still empty (statistics of an empty table would mislead the planner later).
            for name in (*ID_TABLES, "surveys"):
                await connection.execute(text(f"ANALYZE {name}"))
    rows = {
        "contacts": len(contact_rows),
        "contact_identities": len(identity_rows),
        **writer.counts,
    }
    return Seeded(rows, perf_counter() - started, writer.seconds)
