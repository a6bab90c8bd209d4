"""The cases file of ``onethread eval conversations``: scripted threads and what to expect.

A YAML mapping (docs/assistant.md, "Evaluating conversations"):

- ``services``: what to serve on loopback while the suite runs (``demo_billing: true``);
- ``knowledge``: a folder or file of articles (relative to the cases file), a list of
  them, or ``demo`` for the demo's articles;
- ``secrets``: playbook secrets for the suite (a served service adds its own);
- ``defaults``: setup every case starts from;
- ``cases``: each a ``name``, optional setup (the same keys as ``defaults``), an optional
  ``known_failure: "<why>"``, and ``turns``: ``customer: <text>`` with ``expect``,
  ``agent: <text>`` (a person replies and takes the thread) or ``hand_back: true``.

A case's setup overrides the defaults key by key; ``contact``, ``inbox`` and ``vars``
are merged one level down (so ``contact.attributes`` replaces the default attributes as
a whole). Unknown keys are refused, so that a misspelt expectation cannot pass silently.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from onethread.assistant.decision import Outcome, Reason
from onethread.errors import InvalidInput
from onethread.inboxes.models import AiMode
from onethread.playbook.schemas import Playbook
from onethread.workspaces.schemas import OpeningHours, WorkspaceSettings

ActionOutcomeName = Literal[
    "done", "not_found", "needs_slots", "needs_identity", "failed", "not_run"
]
MERGED_ONE_LEVEL = ("contact", "inbox", "vars")
DEFAULT_NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # the demo billing data's "today"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class ExpectedHandoff(Strict):
    reason: Reason | None = None
    team: str | None = None  # set to null: handed off to no particular team


class Expect(Strict):
    """What one customer turn must come to. Every key is optional."""

    silent: bool | None = None
    outcome: Outcome | None = None
    reason: Reason | None = None
    language: str | None = None
    topics: list[str] = Field(default_factory=list)  # among the topics the turn dealt with
    no_topics: list[str] = Field(default_factory=list)
    actions: dict[str, ActionOutcomeName] = Field(default_factory=dict)  # not_run: must not run
    asked: list[str] | None = None  # the slots asked for, in any order
    handoff: ExpectedHandoff | bool | None = None  # false: no handoff
    reply_contains: list[str] = Field(default_factory=list)
    reply_excludes: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)  # in the reply and in a source
    sources: list[str] = Field(default_factory=list)  # cited titles or action names
    summary_contains: list[str] = Field(default_factory=list)  # the agent's handoff note
    draft: bool | None = None

    _listed = field_validator(
        "topics",
        "no_topics",
        "reply_contains",
        "reply_excludes",
        "facts",
        "sources",
        "summary_contains",
        mode="before",
    )(_listed)


class Turn(Strict):
    customer: str | None = None
    agent: str | None = None
    hand_back: bool = False
    expect: Expect = Field(default_factory=Expect)

    @model_validator(mode="after")
    def one_move(self) -> Turn:
        moves = [self.customer is not None, self.agent is not None, self.hand_back]
        if sum(moves) != 1:
            raise ValueError("a turn is one of customer: <text>, agent: <text>, hand_back: true")
        if self.customer is None and self.expect.model_fields_set:
            raise ValueError("only a customer turn has expectations")
        return self


class ContactSetup(Strict):
    attributes: dict[str, Any] = Field(default_factory=dict)
    verified_email: str | None = None
    verified_phone: str | None = None
    language: str | None = None


class InboxSetup(Strict):
    ai_mode: AiMode = AiMode.AUTO


class PreviousTopic(Strict):
    topic: str
    days_ago: float = 1


class Setup(Strict):
    contact: ContactSetup = Field(default_factory=ContactSetup)
    inbox: InboxSetup = Field(default_factory=InboxSetup)
    business_hours: list[OpeningHours] = Field(default_factory=list)
    timezone: str = "UTC"
    now: datetime = DEFAULT_NOW
    previous_topics: list[PreviousTopic | str] = Field(default_factory=list)
    vars: dict[str, str] = Field(default_factory=dict)

    @field_validator("now")
    @classmethod
    def aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    def workspace_settings(self) -> WorkspaceSettings:
        return WorkspaceSettings(timezone=self.timezone, business_hours=self.business_hours)

    def resolved_topics(self) -> dict[str, datetime]:
        """Topics of the contact's earlier threads, with when each was resolved."""
        found: dict[str, datetime] = {}
        for entry in self.previous_topics:
            previous = PreviousTopic(topic=entry) if isinstance(entry, str) else entry
            found[previous.topic] = self.now - timedelta(days=previous.days_ago)
        return found


class Case(Setup):
    name: str = Field(min_length=1)
    known_failure: str | None = None
    turns: list[Turn] = Field(min_length=1)


class Services(Strict):
    """What to serve on loopback while the suite runs (``services.py``)."""

    demo_billing: bool = False


class Suite(Strict):
    services: Services = Field(default_factory=Services)
    knowledge: str | list[str] | None = None
    secrets: dict[str, str] = Field(default_factory=dict)
    cases: list[Case] = Field(min_length=1)

    def knowledge_paths(self, base: Path) -> list[str]:
        listed = [self.knowledge] if isinstance(self.knowledge, str) else self.knowledge or []
        return [item if item == "demo" else str(base / item) for item in listed]


def _merge(defaults: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    merged = {**defaults, **case}
    for key in MERGED_ONE_LEVEL:
        if isinstance(defaults.get(key), dict) and isinstance(case.get(key), dict):
            merged[key] = {**defaults[key], **case[key]}
    return merged


def parse_suite(text: str, source: str = "cases") -> Suite:
    """The suite, defaults applied; every problem is an ``InvalidInput`` saying where."""
    try:
        document: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"{source} is not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise InvalidInput(f"{source} must be a mapping with cases: [...]")
    defaults = document.pop("defaults", None) or {}
    if not isinstance(defaults, dict):
        raise InvalidInput(f"{source}: defaults must be a mapping")
    cases = document.get("cases")
    if isinstance(cases, list):
        document["cases"] = [
            _merge(defaults, case) if isinstance(case, dict) else case for case in cases
        ]
    try:
        suite = Suite.model_validate(document)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        ]
        raise InvalidInput(f"{source} is invalid: " + "; ".join(problems[:10])) from error
    names = [case.name for case in suite.cases]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InvalidInput(f"{source}: two cases are named {', '.join(twice)}")
    return suite


def check_against(suite: Suite, playbook: Playbook) -> None:
    """Refuse topic and action names the playbook does not have: a typo is not a pass."""
    topics = {topic.name for topic in playbook.topics}
    actions = {action.name for action in playbook.actions}
    problems = []
    for case in suite.cases:
        named = [p.topic if isinstance(p, PreviousTopic) else p for p in case.previous_topics]
        for turn in case.turns:
            expect = turn.expect
            named += [*expect.topics, *expect.no_topics]
            problems += [
                f"{case.name}: unknown action {name}"
                for name in expect.actions
                if name not in actions
            ]
        problems += [f"{case.name}: unknown topic {name}" for name in named if name not in topics]
    if problems:
        raise InvalidInput("the cases do not match the playbook: " + "; ".join(problems[:10]))
