"""What the assistant decides for one turn. Writing it down is the caller's job.

A ``Decision`` is plain data: the reply parts with their sources, the actions run, the
handoff with its reason, or silence with its reason. ``jobs/assistant_turn.py`` turns
it into rows (a reply and its delivery job, a handoff and its summary note, a draft
for agents) in one transaction; ``onethread eval conversations`` reads it directly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    REPLY = "reply"  # every topic answered from a source
    PARTIAL = "partial"  # some topics answered, the rest handed off in the same message
    ASK = "ask"  # a slot an action needs is missing: asked once
    HANDOFF = "handoff"  # nothing answerable: a person joins
    SILENT = "silent"  # policy keeps the assistant quiet


class Reason(StrEnum):
    """Why: recorded on every decision and on every handoff."""

    ANSWERED = "answered"
    SMALL_TALK = "small_talk"
    ASKED_FOR_SLOT = "asked_for_slot"
    # silence
    HUMAN_HANDLES = "human_handles"
    NO_PLAYBOOK = "no_playbook"
    AI_OFF = "ai_off"
    BUSINESS_HOURS = "inside_business_hours"
    NO_NEW_MESSAGE = "no_new_message"
    # handoff
    CUSTOMER_REQUESTED_HUMAN = "customer_requested_human"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    LOW_CONFIDENCE = "low_confidence"
    HUMAN_ONLY_TOPIC = "human_only_topic"
    ACTION_FAILED = "action_failed"
    MAX_AI_TURNS = "max_ai_turns"
    REPEAT_CONTACT = "repeat_contact"
    CONTACT_KEPT_HUMAN = "contact_kept_human"
    MISSING_SLOT = "missing_slot"
    UNVERIFIED_IDENTITY = "unverified_identity"
    NO_KNOWLEDGE = "no_knowledge"
    UNGROUNDED = "ungrounded"


@dataclass(frozen=True)
class Source:
    """Where a reply part's facts come from: a knowledge passage or an action's result."""

    kind: str  # "article" or "action"
    ref: str  # article id / chunk id, or the action's name
    title: str
    text: str  # the passage, or the action result's facts, one per line

    def cited(self) -> dict[str, str]:
        return {"kind": self.kind, "ref": self.ref, "title": self.title}


@dataclass(frozen=True)
class TopicMatch:
    name: str
    confidence: float
    segment: str
    domain: str = ""


@dataclass
class ReplyPart:
    topic: str
    text: str
    sources: list[Source]


@dataclass
class HandoffPart:
    topic: str | None
    reason: Reason
    detail: str = ""


@dataclass
class ActionRun:
    action: str
    topic: str
    outcome: str  # done, not_found, needs_slots, needs_identity, failed
    detail: str = ""
    facts: list[str] = field(default_factory=list)
    contact_updates: dict[str, Any] = field(default_factory=dict)  # written with the decision


@dataclass
class Handoff:
    reason: Reason
    team: str | None
    topics: list[str]
    summary: str


@dataclass
class Understanding:
    text: str
    language: str
    language_confidence: float
    topics: list[TopicMatch]
    slots: dict[str, str]
    sentiment: float
    asks_for_human: bool


@dataclass
class Decision:
    outcome: Outcome
    reason: Reason
    understanding: Understanding | None = None
    reply: str | None = None
    parts: list[ReplyPart] = field(default_factory=list)
    handoff_parts: list[HandoffPart] = field(default_factory=list)
    actions: list[ActionRun] = field(default_factory=list)
    handoff: Handoff | None = None
    asked: dict[str, Any] | None = None  # {"topic", "action", "slots"} when a slot was asked
    draft: bool = False  # assist mode: shown to agents, never sent
    timings_ms: dict[str, float] = field(default_factory=dict)
    opening: list[str] = field(default_factory=list)  # the greeting, before the parts
    closing: list[str] = field(default_factory=list)  # handoff lines or the question
    phrased_by_model: bool = False

    def assemble(self, body: list[str] | None = None) -> str | None:
        """The reply: opening, the parts (or ``body``, their rewording), closing."""
        middle = body if body is not None else [part.text for part in self.parts]
        pieces = [*self.opening, *middle, *self.closing]
        return "\n\n".join(piece for piece in pieces if piece.strip()) or None

    @property
    def sources(self) -> list[Source]:
        return [source for part in self.parts for source in part.sources]

    def record(self) -> dict[str, Any]:
        """The decision as the event log and the message's ``ai_meta`` keep it."""
        understanding = self.understanding
        return {
            "outcome": self.outcome.value,
            "reason": self.reason.value,
            "language": understanding.language if understanding else None,
            "topics": [asdict(t) for t in understanding.topics] if understanding else [],
            "slots": understanding.slots if understanding else {},
            "sentiment": round(understanding.sentiment, 3) if understanding else None,
            "sources": [source.cited() for source in self.sources],
            # Which attributes an action refreshed, not their values: the event log and
            # every agent's socket get the decision; contact.updated carries the change.
            "actions": [
                {**asdict(run), "contact_updates": sorted(run.contact_updates)}
                for run in self.actions
            ],
            "handed_off": [
                {"topic": part.topic, "reason": part.reason.value} for part in self.handoff_parts
            ],
            "asked": self.asked,
            "draft": self.draft,
            "phrased_by_model": self.phrased_by_model,
            "timings_ms": {key: round(value, 2) for key, value in self.timings_ms.items()},
        }
