"""The playbook document: what the assistant may do in a workspace, as data.

One document per workspace, edited through the API and imported/exported as YAML. It
names the topics the assistant recognises (each tagged service or support, owned by a
team, and resolved by knowledge, an action or always a human), the deterministic
actions it may run, the escalation rules and the assistant's settings. Templates
(action URLs, headers, parameters and replies) are Jinja2 rendered in a sandbox with
``contact``, ``slots``, ``vars``, ``secrets`` and, for replies, ``result``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from onethread.agents.models import Domain

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
LANGUAGE = re.compile(r"^[a-z]{2}$")
LanguageMap = TypeVar("LanguageMap", bound=dict[str, Any])


class SlotKind(StrEnum):
    """What the assistant can read out of a customer's message."""

    ORDER_NUMBER = "order_number"
    INVOICE_NUMBER = "invoice_number"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    AMOUNT = "amount"


class Resolution(StrEnum):
    KNOWLEDGE = "knowledge"
    ACTION = "action"
    HUMAN = "human"


class Tone(StrEnum):
    FRIENDLY = "friendly"
    NEUTRAL = "neutral"
    FORMAL = "formal"


def _check_name(value: str) -> str:
    if not NAME.match(value):
        raise ValueError("names are lowercase letters, digits and _, starting with a letter")
    return value


def _check_languages(value: LanguageMap) -> LanguageMap:
    for language in value:
        if not LANGUAGE.match(language):
            raise ValueError(f"{language!r} is not a two-letter language code")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Topic(Strict):
    name: str = Field(description="Identifier, e.g. billing_double_charge.")
    title: str = Field(default="", max_length=200, description="Readable name for agents.")
    domain: Domain
    team: str | None = Field(default=None, description="Name of the team that owns it.")
    description: str = Field(default="", max_length=2000)
    examples: list[str] = Field(default_factory=list, description="Phrasings, any language.")
    examples_by_language: dict[str, list[str]] = Field(default_factory=dict)
    resolve: Resolution
    action: str | None = Field(default=None, description="The action, when resolve=action.")

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return _check_name(value)

    @field_validator("examples_by_language")
    @classmethod
    def _valid_languages(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return _check_languages(value)

    @model_validator(mode="after")
    def resolvable(self) -> Topic:
        if self.resolve is Resolution.ACTION and not self.action:
            raise ValueError(f"topic {self.name}: resolve=action needs an action")
        if self.resolve is not Resolution.ACTION and self.action:
            raise ValueError(f"topic {self.name}: an action is only used with resolve=action")
        if not self.examples and not self.examples_by_language:
            raise ValueError(f"topic {self.name}: give at least one example phrasing")
        return self

    def all_examples(self) -> list[tuple[str | None, str]]:
        """(language or None, phrasing) for every example of the topic."""
        pairs: list[tuple[str | None, str]] = [(None, text) for text in self.examples]
        for language, texts in self.examples_by_language.items():
            pairs.extend((language, text) for text in texts)
        return pairs


class ActionBase(Strict):
    name: str
    description: str = Field(default="", max_length=2000)
    slots: list[SlotKind] = Field(
        default_factory=list, description="Read from the message; asked for once if missing."
    )
    requires: list[str] = Field(
        default_factory=list,
        description=(
            "Contact fields the action needs, from verified data only: 'email', 'phone' "
            "(verified identities) or 'attributes.<name>' (set by the business)."
        ),
    )
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    reply: dict[str, str] = Field(
        default_factory=dict,
        description="Per language: a template rendering the result's exact fields.",
    )
    not_found_reply: dict[str, str] = Field(
        default_factory=dict,
        description="Per language, when the result is empty or the service answers 404.",
    )
    updates_contact: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Contact attributes refreshed from a result: attribute name → the result's "
            "field (a dotted path, e.g. subscription.plan). Customer value attributes "
            "are validated as through the API (docs/contacts.md)."
        ),
    )

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return _check_name(value)

    @field_validator("updates_contact")
    @classmethod
    def _valid_updates(cls, value: dict[str, str]) -> dict[str, str]:
        for attribute, path in value.items():
            if not 0 < len(attribute) <= 100:
                raise ValueError("an attribute name has 1 to 100 characters")
            if not all(path.split(".")):
                raise ValueError(f"{path!r} is not a field of the result (e.g. plan or a.b)")
        return value

    @field_validator("reply", "not_found_reply")
    @classmethod
    def _valid_languages(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_languages(value)


class HttpAction(ActionBase):
    kind: Literal["http"] = "http"
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: str = Field(description="Template, e.g. {{ vars.billing_api }}/customers/{{ ... }}.")
    headers: dict[str, str] = Field(default_factory=dict, description="Templates; secrets ok.")
    params: dict[str, str] = Field(default_factory=dict, description="Query string templates.")
    body: dict[str, Any] | None = Field(default=None, description="JSON body; string templates.")


class PythonAction(ActionBase):
    kind: Literal["python"] = "python"
    entry_point: str = Field(description="Name in the 'onethread.actions' entry point group.")


def _action_kind(value: Any) -> str:
    """HTTP unless told otherwise, so that a YAML action may leave ``kind`` out."""
    if isinstance(value, dict):
        return str(value.get("kind", "http"))
    return str(getattr(value, "kind", "http"))


Action = Annotated[
    Annotated[HttpAction, Tag("http")] | Annotated[PythonAction, Tag("python")],
    Discriminator(_action_kind),
]


class AttributeRule(Strict):
    """Matches a contact whose attribute equals a value or is one of several."""

    attribute: str = Field(min_length=1, max_length=100)
    equals: Any = None
    one_of: list[Any] | None = None

    def matches(self, attributes: dict[str, Any]) -> bool:
        if self.attribute not in attributes:
            return False
        value = attributes[self.attribute]
        if self.one_of is not None:
            return value in self.one_of
        return bool(value == self.equals)


class EscalationRules(Strict):
    """Triggers configured in advance; each handoff records which one fired."""

    human_request: bool = True
    negative_sentiment: bool = True
    negative_sentiment_threshold: float = Field(default=-0.6, ge=-1, le=0)
    low_confidence: bool = True
    action_failed: bool = True
    max_ai_turns: int | None = Field(
        default=4, ge=1, le=50, description="Hand off after this many AI replies unresolved."
    )
    repeat_contact_days: int | None = Field(
        default=7, ge=1, le=90, description="Hand off a topic the contact raised this recently."
    )
    keep_human: list[AttributeRule] = Field(
        default_factory=list, description="Contacts the assistant never answers (e.g. VIPs)."
    )


class AssistantSettings(Strict):
    confidence_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Below it a message is out of scope; None = calibrated on the examples.",
    )
    knowledge_threshold: float = Field(
        default=0.35, ge=0, le=1, description="Minimum retrieval score to answer from a passage."
    )
    tone: Tone = Tone.FRIENDLY
    default_language: str = "en"
    greeting: dict[str, str] = Field(default_factory=dict, description="Per language.")
    signature: str = Field(default="", max_length=200)

    @field_validator("greeting")
    @classmethod
    def _valid_languages(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_languages(value)


class Playbook(Strict):
    settings: AssistantSettings = Field(default_factory=AssistantSettings)
    topics: list[Topic] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    rules: EscalationRules = Field(default_factory=EscalationRules)
    vars: dict[str, str] = Field(
        default_factory=dict, description="Values for templates, e.g. a service's base URL."
    )
    out_of_scope: list[str] = Field(
        default_factory=list,
        description="Messages that belong to no topic: they calibrate where routing stops.",
    )
    replies: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Per language, overrides of the assistant's own lines (handoff, ask_slot…).",
    )

    @model_validator(mode="after")
    def consistent(self) -> Playbook:
        topic_names = [topic.name for topic in self.topics]
        action_names = [action.name for action in self.actions]
        for kind, names in (("topic", topic_names), ("action", action_names)):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"two {kind}s are named {name}")
                seen.add(name)
        for topic in self.topics:
            if topic.action and topic.action not in action_names:
                raise ValueError(f"topic {topic.name} names an unknown action {topic.action}")
        _check_languages(self.replies)
        return self

    def topic(self, name: str) -> Topic | None:
        return next((topic for topic in self.topics if topic.name == name), None)

    def action(self, name: str) -> HttpAction | PythonAction | None:
        return next((action for action in self.actions if action.name == name), None)
