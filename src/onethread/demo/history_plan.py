"""The demo's recent history as data: who wrote, when, and what happened next (pure).

``plan_history`` draws, from a fixed seed, about 180 conversations over the last 21 days:
most answered and resolved by the assistant, the rest handed off for the reasons the
assistant records, picked up quickly or slowly, sometimes transferred or reopened, with
customers who restate their question while they wait, repeat contacts, surveys, and a
few questions the knowledge base cannot answer asked again and again in other words.
Each step's ``at`` is in seconds after the conversation's first message; ``history.py``
plays the steps through the domain actions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from onethread.demo import history_lines as lines

HISTORY_DAYS = 21
SEED = 20261126
BASE_STORIES = 140
AI_SHARE = 0.72  # of the base stories; gaps, VIPs and repeats are handed off more
REPEATS = 16
DAY = 86400.0
HOUR = 3600.0
MINUTE = 60.0

CHANNELS = {
    "whatsapp": 28,
    "webchat": 25,
    "instagram": 10,
    "messenger": 10,
    "twilio_sms": 10,
    "twilio_whatsapp": 9,
    "twilio_voice": 8,
}
HANDOFF_REASONS = {
    "customer_requested_human": 30,
    "human_only_topic": 35,
    "negative_sentiment": 20,
    "action_failed": 15,
}
HUMAN_ONLY = [name for name, topic in lines.TOPICS.items() if not topic.source]
ANSWERABLE = [name for name, topic in lines.TOPICS.items() if topic.source]
WITH_ACTION = [name for name in ANSWERABLE if lines.TOPICS[name].source.startswith("action:")]
TEAMS = {lines.BILLING: lines.SUPPORT, lines.SUPPORT: lines.BILLING}


@dataclass(frozen=True)
class Customer:
    number: int
    name: str
    channel: str
    attributes: dict[str, Any]

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    @property
    def phone(self) -> str | None:
        return (
            f"+1206555{self.number:04d}"
            if self.channel.startswith(("twilio", "whatsapp"))
            else None
        )

    @property
    def email(self) -> str | None:
        if self.channel in ("instagram", "twilio_voice"):
            return None
        return f"{self.name.lower().replace(' ', '.')}@example.com"

    @property
    def handle(self) -> str:
        """The sender id on the customer's channel."""
        return {
            "whatsapp": f"1206555{self.number:04d}",
            "instagram": f"68{self.number:014d}",
            "messenger": f"72{self.number:014d}",
            "webchat": f"visitor-history-{self.number}",
        }.get(self.channel, self.phone or "")


@dataclass(frozen=True)
class Step:
    at: float
    verb: str  # in, ai, handoff, pickup, agent, transfer, resolve, ask
    args: tuple[Any, ...] = ()


@dataclass
class Story:
    customer: Customer
    start_ago: float  # seconds before now of its first message
    topic: str | None
    steps: list[Step] = field(default_factory=list)
    at: float = 0.0  # the clock while planning: the latest step's time

    def add(self, delay: float, verb: str, *args: Any) -> None:
        self.at += delay
        self.steps.append(Step(self.at, verb, args))


def plan_history(today: date) -> list[Story]:
    """Every story, oldest first; the same on every run for the same ``today``."""
    rng = random.Random(SEED)
    customers = _customers(rng, today, BASE_STORIES + 30)
    stories: list[Story] = []
    pool = iter(customers)
    for _ in range(BASE_STORIES):
        customer = next(pool)
        stories.append(_base_story(rng, customer, rng.uniform(0.3 * HOUR, HISTORY_DAYS * DAY)))
    for reason, topic, team, _, questions in lines.KNOWLEDGE_GAPS:
        asked = [*questions, *rng.sample(questions, 2)]
        for index, question in enumerate(asked):  # spread evenly: every week has a few
            slot = (index + rng.uniform(0.1, 0.9)) / len(asked)
            story = Story(next(pool), slot * (HISTORY_DAYS - 0.5) * DAY + HOUR, topic)
            _handoff(rng, story, question, reason, team, confidence=rng.uniform(0.2, 0.45))
            stories.append(story)
    earlier = [
        s for s in stories if s.start_ago > 5 * DAY and s.topic and not s.customer.attributes["vip"]
    ]
    for first in rng.sample(earlier, min(REPEATS, len(earlier))):
        repeat = _repeat(rng, first)
        if repeat.start_ago > 0:
            stories.append(repeat)
    return sorted(stories, key=lambda story: -story.start_ago)


def _customers(rng: random.Random, today: date, count: int) -> list[Customer]:
    names = [f"{first} {last}" for first in lines.FIRST_NAMES for last in lines.LAST_NAMES]
    chosen = rng.sample(names, count)
    kinds = rng.choices(list(CHANNELS), weights=list(CHANNELS.values()), k=count)
    return [
        Customer(number, name, kind, _value(rng, today, number))
        for number, (name, kind) in enumerate(zip(chosen, kinds, strict=True), start=1)
    ]


def _value(rng: random.Random, today: date, number: int) -> dict[str, Any]:
    """Customer value attributes that agree with each other (docs/contacts.md)."""
    plan, price = rng.choices(lines.PLANS, weights=(45, 35, 20))[0]
    seats = rng.randint(0, 8) if plan == "Business" else 0
    monthly = price + 10 * seats
    since = today - timedelta(days=rng.randint(20, 3 * 365))
    churned = today - timedelta(days=rng.randint(1, 29)) if number % 25 == 0 else None
    months = max(1, ((churned or today) - since).days // 30)
    attributes: dict[str, Any] = {
        "plan": plan,
        "customer_since": since.isoformat(),
        "monthly_revenue": monthly,
        "lifetime_revenue": round(monthly * months * rng.uniform(0.9, 1.0), 2),
        # Only base stories' customers are VIPs: the gaps' customers talk to the assistant.
        "vip": plan == "Business" and number % 9 == 0 and number <= BASE_STORIES,
        "company": f"{rng.choice(lines.LAST_NAMES)} {rng.choice(lines.COMPANY_KINDS)}",
    }
    if churned is not None and churned > since:
        attributes["churned_at"] = churned.isoformat()
    return attributes


def _base_story(rng: random.Random, customer: Customer, start_ago: float) -> Story:
    if customer.attributes["vip"]:  # the playbook keeps VIPs with humans
        topic = rng.choice(list(lines.TOPICS))
        story = Story(customer, start_ago, topic)
        _handoff(rng, story, _question(rng, topic), "contact_kept_human", _team(topic))
        return story
    if rng.random() < AI_SHARE:
        topic = rng.choice(ANSWERABLE)
        story = Story(customer, start_ago, topic)
        _answered(rng, story, _question(rng, topic))
        return story
    reason = rng.choices(list(HANDOFF_REASONS), weights=list(HANDOFF_REASONS.values()))[0]
    topic = rng.choice(
        HUMAN_ONLY
        if reason == "human_only_topic"
        else WITH_ACTION
        if reason == "action_failed"
        else ANSWERABLE
    )
    story = Story(customer, start_ago, topic)
    text = _question(rng, topic)
    if reason == "customer_requested_human":
        text = f"{text} {rng.choice(lines.ASK_FOR_HUMAN)}"
    elif reason == "negative_sentiment":
        text = f"{rng.choice(lines.ANGRY)} {text}"
    _handoff(rng, story, text, reason, _team(topic))
    return story


def _repeat(rng: random.Random, first: Story) -> Story:
    """The same customer back on the same topic 3.5 to 6.5 days later: a new conversation."""
    assert first.topic is not None
    story = Story(first.customer, first.start_ago - rng.uniform(3.5, 6.5) * DAY, first.topic)
    text = rng.choice(lines.REPEAT_PREFIX) + _question(rng, first.topic)
    if first.topic in HUMAN_ONLY or rng.random() < 0.6:
        _handoff(rng, story, text, "repeat_contact", _team(first.topic))
    else:
        _answered(rng, story, text)
    return story


def _answered(rng: random.Random, story: Story, text: str) -> None:
    assert story.topic is not None
    story.add(0, "in", text)
    story.add(rng.uniform(4, 20), "ai", "answered", story.topic, rng.uniform(0.7, 0.96))
    if rng.random() < 0.4:
        story.add(rng.uniform(1, 10) * MINUTE, "in", rng.choice(lines.THANKS))
        story.add(rng.uniform(4, 12), "ai", "small_talk", None, 0.0)
    story.add(rng.uniform(20, 40) * MINUTE, "resolve", None)
    if rng.random() < 0.09 and story.start_ago > 3 * DAY:  # back a day later: it did not work
        again = f"{rng.choice(lines.REOPEN_PREFIX)}{text} Can someone from your team look?"
        story.add(rng.uniform(2, 40) * HOUR, "in", again)
        _human_from_handoff(rng, story, "customer_requested_human", _team(story.topic), 0.8)
    _surveys(rng, story)


def _handoff(
    rng: random.Random,
    story: Story,
    text: str,
    reason: str,
    team: str,
    *,
    confidence: float | None = None,
) -> None:
    story.add(0, "in", text)
    _human_from_handoff(rng, story, reason, team, confidence or rng.uniform(0.6, 0.9))
    if rng.random() < 0.07 and story.start_ago > 3 * DAY:
        story.add(rng.uniform(2, 40) * HOUR, "in", rng.choice(lines.REOPEN_PREFIX) + text)
        story.add(rng.uniform(10, 90) * MINUTE, "agent", rng.choice(lines.AGENT_SOLVED))
        story.add(rng.uniform(5, 30) * MINUTE, "resolve", "agent")
    _surveys(rng, story)


def _human_from_handoff(
    rng: random.Random, story: Story, reason: str, team: str, confidence: float
) -> None:
    """The assistant hands off; the customer may restate while waiting; agents take over."""
    story.add(rng.uniform(4, 15), "handoff", reason, story.topic, team, confidence)
    roll = rng.random()
    pickup = (
        rng.uniform(2, 40)
        if roll < 0.68
        else rng.uniform(40, 58)
        if roll < 0.83
        else rng.uniform(65, 320)  # a slow pickup (> 1 h)
    ) * MINUTE
    waited = 0.0
    if pickup > 5 * MINUTE and rng.random() < 0.3:
        waited = rng.uniform(2 * MINUTE, min(pickup - MINUTE, 25 * MINUTE))
        question = next(s.args[0] for s in reversed(story.steps) if s.verb == "in")
        story.add(waited, "in", rng.choice(lines.STILL_WAITING) + question)
    elif pickup > 5 * MINUTE and rng.random() < 0.2:
        waited = rng.uniform(MINUTE, 4 * MINUTE)
        story.add(waited, "in", rng.choice(lines.NOT_RESTATING))
    story.add(pickup - waited, "pickup", team)
    if rng.random() < 0.12:
        other = TEAMS[team]
        story.add(rng.uniform(3, 10) * MINUTE, "transfer", other)
        story.add(rng.uniform(5, 40) * MINUTE, "pickup", other)
        if rng.random() < 0.45:
            story.add(rng.uniform(5, 15) * MINUTE, "transfer", team)
            story.add(rng.uniform(5, 30) * MINUTE, "pickup", team)
    story.add(rng.uniform(3, 25) * MINUTE, "agent", rng.choice(lines.AGENT_SOLVED))
    if rng.random() < 0.7:
        story.add(rng.uniform(2, 30) * MINUTE, "in", rng.choice(lines.CUSTOMER_CONFIRMS))
    story.add(rng.uniform(1, 20) * MINUTE, "resolve", "agent")


def _surveys(rng: random.Random, story: Story) -> None:
    """CSAT on about 4 resolutions in 10, NPS after about half of the CSAT answers."""
    if story.customer.channel == "twilio_voice" or rng.random() > 0.58:
        return
    trouble = _trouble(story)
    human = any(step.verb == "pickup" for step in story.steps)
    story.add(MINUTE, "ask", "csat")
    if rng.random() > 0.72:
        return
    weights = (8, 17, 30, 30, 15) if trouble else (2, 3, 7, 30, 58) if human else (3, 5, 10, 32, 50)
    csat = rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
    story.add(rng.uniform(2, 90) * MINUTE, "in", _answer(rng, csat, csat))
    if rng.random() > 0.55:
        return
    story.add(30, "ask", "nps")
    if rng.random() < 0.85:
        nps = max(0, min(10, round(csat * 2 + rng.gauss(0.3, 1.0))))
        story.add(rng.uniform(1, 20) * MINUTE, "in", _answer(rng, nps, csat))


def _answer(rng: random.Random, score: int, csat: int) -> str:
    if rng.random() > 0.4:
        return str(score)
    mood = "happy" if csat >= 4 else "neutral" if csat == 3 else "unhappy"
    return f"{score} - {rng.choice(lines.COMMENTS[mood])}"


def _trouble(story: Story) -> bool:
    """Slow pickup, restating, two transfers or a reopen: what makes customers unhappy."""
    verbs = [step.verb for step in story.steps]
    handoff = next((s.at for s in story.steps if s.verb == "handoff"), None)
    pickup = next((s.at for s in story.steps if s.verb == "pickup"), None)
    slow = handoff is not None and pickup is not None and pickup - handoff > HOUR
    restated = any(
        s.verb == "in" and s.args[0].startswith(lines.STILL_WAITING) for s in story.steps
    )
    return slow or restated or verbs.count("transfer") > 1 or verbs.count("resolve") > 1


def _question(rng: random.Random, topic: str) -> str:
    return rng.choice(lines.TOPICS[topic].questions)


def _team(topic: str) -> str:
    return lines.TOPICS[topic].team
