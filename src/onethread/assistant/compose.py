"""Composing the one reply of a turn: grounded parts, handoff lines, the agent's summary.

Every part is checked against its own sources before it is said: a number, price,
date or percentage that no source carries drops the part, and its topic is handed off
instead (reason ``ungrounded``). The assistant's own lines carry no facts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from onethread.assistant.decision import Decision, Handoff, HandoffPart, Outcome, Reason
from onethread.assistant.grounding.matching import check_grounding
from onethread.assistant.lines import Lines
from onethread.playbook.schemas import Playbook, SlotKind

# A knowledge answer quotes at most this much of its passage, cut at a sentence end.
MAX_PASSAGE_CHARS = 900

REASON_TEXT = {
    Reason.CUSTOMER_REQUESTED_HUMAN: "the customer asked for a person",
    Reason.NEGATIVE_SENTIMENT: "the customer is upset",
    Reason.LOW_CONFIDENCE: "out of scope: no topic recognised with enough confidence",
    Reason.HUMAN_ONLY_TOPIC: "a topic that always goes to a person",
    Reason.ACTION_FAILED: "an action failed",
    Reason.MAX_AI_TURNS: "too many assistant replies without a resolution",
    Reason.REPEAT_CONTACT: "the customer raised this topic again shortly after it was resolved",
    Reason.CONTACT_KEPT_HUMAN: "this contact is always served by a person",
    Reason.MISSING_SLOT: "a detail the action needs is still missing after asking once",
    Reason.UNVERIFIED_IDENTITY: "the customer's identity is not verified for this action",
    Reason.NO_KNOWLEDGE: "no knowledge article answers it",
    Reason.UNGROUNDED: "the answer carried a fact no source supports",
}


# Sections of the best passage's article scoring this close to it join the answer; the
# article's lead (its first section, usually the direct answer) joins from further away.
SECTION_MARGIN = 0.05
LEAD_MARGIN = 0.1
MAX_SECTIONS = 3


class RankedPassage(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def chunk_key(self) -> str: ...


Ranked = TypeVar("Ranked", bound=RankedPassage)


def answering_passages(passages: Sequence[Ranked]) -> list[Ranked]:
    """The best passage and the sections of the same article that score nearly as well,
    in the article's order: an article's lead often answers best with the section the
    words matched ("reset my password" → the reset steps, then the locked-account note)."""
    best = passages[0]
    article = best.chunk_key.rpartition("#")[0]
    close = [
        p
        for p in passages
        if p.chunk_key.rpartition("#")[0] == article
        and p.score >= best.score - (LEAD_MARGIN if _ordinal(p.chunk_key) == 0 else SECTION_MARGIN)
    ][:MAX_SECTIONS]
    return sorted(close, key=lambda p: _ordinal(p.chunk_key))


def _ordinal(chunk_key: str) -> int:
    tail = chunk_key.rpartition("#")[2]
    return int(tail) if tail.isdigit() else 0


def passage_answer(passage: str, title: str, lines: Lines) -> str:
    """The passage (trimmed at a sentence end) and its citation."""
    text = re.sub(r"^#+\s.*\n+", "", passage.strip()).strip()
    if len(text) > MAX_PASSAGE_CHARS:
        cut = text[:MAX_PASSAGE_CHARS]
        end = max(cut.rfind(". "), cut.rfind(".\n"), cut.rfind("\n\n"))
        text = cut[: end + 1] if end > MAX_PASSAGE_CHARS // 3 else cut.rstrip() + "…"
    return f"{text}\n{lines.get('cite', title=title)}"


def check_parts(decision: Decision, language: str) -> None:
    understanding = decision.understanding
    echoed = list(understanding.slots.values()) if understanding else []
    kept = []
    for part in decision.parts:
        sources = [s.text for s in part.sources] + [s.title for s in part.sources] + echoed
        report = check_grounding(part.text, sources, language=language)
        if report.supported:
            kept.append(part)
        else:
            unsupported = ", ".join(fact.text for fact in report.unsupported)
            decision.handoff_parts.append(HandoffPart(part.topic, Reason.UNGROUNDED, unsupported))
    decision.parts = kept


def _team_of(playbook: Playbook, topic_name: str | None) -> str | None:
    topic = playbook.topic(topic_name) if topic_name else None
    return topic.team if topic is not None else None


def _title(playbook: Playbook, topic_name: str | None) -> str:
    topic = playbook.topic(topic_name) if topic_name else None
    return (topic.title or topic.name.replace("_", " ")) if topic else ""


def finish(
    decision: Decision,
    lines: Lines,
    playbook: Playbook,
    *,
    first_turn: bool = False,
    told_before: list[str] | None = None,
) -> Decision:
    """Check the parts, write the reply and, when anything is handed off, the handoff."""
    check_parts(decision, lines.language)
    pieces: list[str] = []  # what follows the parts
    if decision.handoff_parts:
        decision.asked = None
        if decision.parts:
            by_team: dict[str, list[str]] = {}
            for part in decision.handoff_parts:
                owner = _team_of(playbook, part.topic) or lines.get("team")
                by_team.setdefault(owner, []).append(_title(playbook, part.topic))
            # Topic titles are written in the playbook's default language: in another
            # language the line names the team only.
            titled = lines.language == playbook.settings.default_language
            for owner, titles in by_team.items():
                topic = " / ".join(title for title in titles if title)
                if titled and topic:
                    pieces.append(lines.get("handoff_topic", topic=topic, team=owner))
                else:
                    pieces.append(lines.get("handoff_team", team=owner))
            decision.outcome = Outcome.PARTIAL
        else:
            pieces.append(lines.get("handoff"))
            decision.outcome = Outcome.HANDOFF
        first = decision.handoff_parts[0]
        decision.reason = first.reason
        team: str | None = next(
            (_team_of(playbook, p.topic) for p in decision.handoff_parts if p.topic), None
        )
        if team is None and decision.understanding and decision.understanding.topics:
            team = _team_of(playbook, decision.understanding.topics[0].name)
        decision.handoff = Handoff(
            reason=first.reason,
            team=team,
            topics=[p.topic for p in decision.handoff_parts if p.topic],
            summary="",
        )
    elif decision.asked:
        slots = [SlotKind(slot) for slot in decision.asked["slots"]]
        pieces.append(lines.get("ask_slot", slots=lines.slot_names(slots)))
        decision.outcome = Outcome.ASK
        decision.reason = Reason.ASKED_FOR_SLOT
    greeting = playbook.settings.greeting.get(lines.language)
    if first_turn and greeting and decision.reason is not Reason.SMALL_TALK:
        decision.opening = [greeting]
    decision.closing = pieces
    decision.reply = decision.assemble()
    if decision.handoff is not None:
        decision.handoff.summary = summary(decision, playbook, told_before or [])
    return decision


def summary(decision: Decision, playbook: Playbook, told_before: list[str]) -> str:
    """The private note an agent reads on joining: everything, so nobody asks again."""
    assert decision.handoff is not None
    understanding = decision.understanding
    lines = [f"Handoff: {REASON_TEXT.get(decision.handoff.reason, decision.handoff.reason)}"]
    if decision.handoff.team:
        lines.append(f"Team: {decision.handoff.team}")
    if understanding is not None:
        topics = ", ".join(
            f"{_title(playbook, t.name)} ({t.domain or '?'}, {t.confidence:.2f})"
            for t in understanding.topics
        )
        lines.append(f"Topics: {topics or 'none recognised'}")
        for part in decision.handoff_parts:
            if part.topic:
                detail = f" — {part.detail}" if part.detail else ""
                lines.append(
                    f"  handed off: {_title(playbook, part.topic)}: "
                    f"{REASON_TEXT.get(part.reason, part.reason)}{detail}"
                )
        lines.append(
            f"Language: {understanding.language} · Sentiment: {understanding.sentiment:+.2f}"
        )
        if understanding.slots:
            slots = ", ".join(f"{kind} {value}" for kind, value in understanding.slots.items())
            lines.append(f"Slots: {slots}")
    for run in decision.actions:
        facts = "; ".join(run.facts[:8])
        lines.append(
            f"Action {run.action}: {run.outcome}"
            + (f" ({run.detail})" if run.detail else "")
            + (f" — {facts}" if facts else "")
        )
    told = [*told_before, decision.reply] if decision.reply else told_before
    for text in told[-3:]:
        lines.append(f"Told the customer: “{_clip(text)}”")
    if understanding is not None:
        lines.append(f"Customer wrote: “{_clip(understanding.text)}”")
    return "\n".join(lines)


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
