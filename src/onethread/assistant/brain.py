"""One assistant turn: policy, understanding, each topic resolved or handed off, one reply.

``decide`` reads a ``ConversationSnapshot`` and returns a ``Decision``; it writes
nothing. The order of the checks is the documented one (docs/assistant.md):

1. policy gate (human thread, ai_mode, business hours) → silence with its reason;
2. contact kept human, explicit human request, strong negative sentiment, too many AI
   turns → the whole turn is handed off;
3. each topic of the message: repeat contact or human-only → handed off; an action →
   its exact result (or a question for a missing slot, once); knowledge → the best
   passage, cited; nothing above the thresholds → handed off;
4. every part passes the grounding check or is handed off; the grounded parts are
   answered and the rest handed off in the same message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx
import numpy as np
from numpy.typing import NDArray

from onethread.assistant import compose
from onethread.assistant.action_outcomes import (
    ActionDone,
    ActionFailed,
    ActionNeedsIdentity,
    ActionNeedsSlots,
    ActionNotFound,
)
from onethread.assistant.actions_runner import run_action
from onethread.assistant.contact_facts import contact_facts
from onethread.assistant.decision import (
    ActionRun,
    Decision,
    HandoffPart,
    Outcome,
    Reason,
    ReplyPart,
    Source,
    TopicMatch,
    Understanding,
)
from onethread.assistant.encoder import TextEncoder
from onethread.assistant.lines import Lines
from onethread.assistant.llm.uses import GroundedWriter
from onethread.assistant.policy import gate
from onethread.assistant.snapshot import ConversationSnapshot
from onethread.assistant.understanding import (
    TopicRouting,
    encode_turn,
    small_talk,
    understand,
)
from onethread.conversations.models import SenderKind
from onethread.playbook.schemas import Playbook, Resolution, SlotKind, Topic


class Passage(Protocol):
    @property
    def article_id(self) -> int | None: ...
    @property
    def chunk_id(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def language(self) -> str: ...
    @property
    def chunk_key(self) -> str: ...


class KnowledgeSearch(Protocol):
    def search(
        self,
        workspace_id: int,
        query_text: str,
        query_vector: NDArray[np.float32] | None,
        language: str | None = None,
        k: int = 5,
    ) -> Sequence[Passage]: ...


@dataclass
class PlaybookRuntime:
    """A workspace's playbook, ready to use: its trained router and its secrets."""

    workspace_id: int
    playbook: Playbook
    revision: int
    router: TopicRouting
    secrets: dict[str, str]


@dataclass
class AssistantDeps:
    encoder: TextEncoder
    http: httpx.AsyncClient
    knowledge: KnowledgeSearch | None = None
    writer: GroundedWriter | None = None  # an optional language model, checked
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def _clock() -> float:
    return time.perf_counter() * 1000


async def decide(
    snapshot: ConversationSnapshot, runtime: PlaybookRuntime, deps: AssistantDeps
) -> Decision:
    started = _clock()
    playbook = runtime.playbook
    policy = gate(snapshot, playbook, deps.now())
    if policy.silent is not None:
        return Decision(Outcome.SILENT, policy.silent)
    text = snapshot.new_text
    split = await deps.writer.split_topics(text) if deps.writer else None
    vector, segments = encode_turn(deps.encoder, text, split)
    encoded = _clock()
    understanding = understand(
        text,
        vector,
        segments,
        runtime.router,
        languages=_languages(playbook),
        thread_language=snapshot.conversation.language or snapshot.contact.language,
        default_language=playbook.settings.default_language,
    )
    understood = _clock()
    turn = _Turn(snapshot, runtime, deps, understanding, vector, dict(segments))
    decision = await turn.run()
    if deps.writer is not None:
        await _reword(decision, deps.writer, turn.lines, playbook)
    decision.draft = policy.draft
    decision.timings_ms = {
        "encode": encoded - started,
        "understand": understood - encoded,
        "resolve": _clock() - understood,
        "total": _clock() - started,
    }
    return decision


async def suggest(
    snapshot: ConversationSnapshot, runtime: PlaybookRuntime, deps: AssistantDeps
) -> Decision:
    """Agent assist: the grounded parts for the customer's latest messages, for a person
    to send or edit. No policy gate (a person is asking) and no handoff lines; topics that
    cannot be grounded are listed in ``handoff_parts`` for the agent, never guessed."""
    text = snapshot.new_text or _last_inbound_text(snapshot)
    if not text or not runtime.playbook.topics:
        return Decision(Outcome.SILENT, Reason.NO_NEW_MESSAGE)
    vector, segments = encode_turn(deps.encoder, text)
    understanding = understand(
        text,
        vector,
        segments,
        runtime.router,
        languages=_languages(runtime.playbook),
        thread_language=snapshot.conversation.language or snapshot.contact.language,
        default_language=runtime.playbook.settings.default_language,
    )
    turn = _Turn(snapshot, runtime, deps, understanding, vector, dict(segments))
    for match in understanding.topics:
        topic = runtime.playbook.topic(match.name)
        if topic is not None:
            await turn._resolve(topic, match)
    decision = turn._decision(Outcome.REPLY, Reason.ANSWERED)
    compose.check_parts(decision, turn.lines.language)
    if deps.writer is not None:
        await _reword(decision, deps.writer, turn.lines, runtime.playbook)
    if not decision.phrased_by_model:
        decision.reply = decision.assemble()
    decision.draft = True
    return decision


def _last_inbound_text(snapshot: ConversationSnapshot) -> str:
    for message in reversed(snapshot.history):
        if message.direction == "in" and message.text.strip():
            return message.text
    return ""


async def _reword(
    decision: Decision, writer: GroundedWriter, lines: Lines, playbook: Playbook
) -> None:
    """Let the model phrase the grounded parts and summarize the handoff; anything that
    fails its grounding check is dropped and the template text stays."""
    if decision.parts and any(part.sources for part in decision.parts):
        phrased = await writer.phrase_answer(
            decision.parts, lines.language, playbook.settings.tone.value, allowed=lines.allowed()
        )
        if phrased:
            titles = dict.fromkeys(s.title for s in decision.sources if s.kind == "article")
            cited = [lines.get("cite", title=title) for title in titles]
            decision.reply = decision.assemble(["\n".join([phrased, *cited])])
            decision.phrased_by_model = True
    if decision.handoff is not None:
        summary = await writer.summarize_handoff(decision.handoff.summary)
        if summary:
            decision.handoff.summary = f"{summary}\n\n{decision.handoff.summary}"


def _languages(playbook: Playbook) -> list[str]:
    found = {playbook.settings.default_language, *playbook.settings.greeting}
    for topic in playbook.topics:
        found.update(topic.examples_by_language)
    return sorted(found | {"en", "fr", "es", "de", "pt"})


class _Turn:
    def __init__(
        self,
        snapshot: ConversationSnapshot,
        runtime: PlaybookRuntime,
        deps: AssistantDeps,
        understanding: Understanding,
        vector: NDArray[np.float32],
        segment_vectors: dict[str, NDArray[np.float32]],
    ) -> None:
        self.snapshot = snapshot
        self.segment_vectors = segment_vectors
        self.runtime = runtime
        self.playbook = runtime.playbook
        self.deps = deps
        self.understanding = understanding
        self.vector = vector
        self.lines = Lines(self.playbook, understanding.language)
        self.parts: list[ReplyPart] = []
        self.handed_off: list[HandoffPart] = []
        self.actions: list[ActionRun] = []
        self.asked: dict[str, object] | None = None

    def _whole(self, reason: Reason) -> Decision:
        self.parts = []
        self.handed_off = [HandoffPart(None, reason)]
        return self._finish(Outcome.HANDOFF, reason)

    def _finish(self, outcome: Outcome, reason: Reason) -> Decision:
        history = self.snapshot.history
        told = [m.text for m in history if m.sender_kind == SenderKind.AI.value]
        return compose.finish(
            self._decision(outcome, reason),
            self.lines,
            self.playbook,
            first_turn=not told,
            told_before=told,
        )

    def _decision(self, outcome: Outcome, reason: Reason) -> Decision:
        return Decision(
            outcome,
            reason,
            understanding=self.understanding,
            parts=self.parts,
            handoff_parts=self.handed_off,
            actions=self.actions,
            asked=self.asked,
        )

    async def run(self) -> Decision:
        rules = self.playbook.rules
        understanding = self.understanding
        conversation = self.snapshot.conversation
        if any(rule.matches(self.snapshot.contact.attributes or {}) for rule in rules.keep_human):
            return self._whole(Reason.CONTACT_KEPT_HUMAN)
        if rules.human_request and understanding.asks_for_human:
            return self._whole(Reason.CUSTOMER_REQUESTED_HUMAN)
        if (
            rules.negative_sentiment
            and understanding.sentiment <= rules.negative_sentiment_threshold
        ):
            return self._whole(Reason.NEGATIVE_SENTIMENT)
        if rules.max_ai_turns is not None and conversation.ai_turns >= rules.max_ai_turns:
            return self._whole(Reason.MAX_AI_TURNS)
        topics = self._with_pending_topic(understanding.topics)
        if not topics:
            courtesy = small_talk(understanding.text)
            if courtesy is not None:
                self.parts = [ReplyPart("", self.lines.get(courtesy), [])]
                return self._finish(Outcome.REPLY, Reason.SMALL_TALK)
            # Out of scope is never guessed at: with low_confidence off the assistant
            # stays silent instead of handing off.
            if not rules.low_confidence:
                return Decision(Outcome.SILENT, Reason.LOW_CONFIDENCE, understanding=understanding)
            return self._whole(Reason.LOW_CONFIDENCE)
        for match in topics:
            topic = self.playbook.topic(match.name)
            if topic is not None:
                await self._resolve(topic, match)
        return self._finish(Outcome.REPLY, Reason.ANSWERED)

    def _pending(self) -> dict[str, object] | None:
        meta = self.snapshot.last_ai_meta or {}
        asked = meta.get("asked")
        return asked if isinstance(asked, dict) else None

    def _with_pending_topic(self, topics: list[TopicMatch]) -> list[TopicMatch]:
        """A reply to our question ("INV-2041") continues the topic we asked about."""
        pending = self._pending()
        if pending is None or any(t.name == pending.get("topic") for t in topics):
            return topics
        topic = self.playbook.topic(str(pending.get("topic")))
        if topic is None:
            return topics
        carried = TopicMatch(topic.name, 1.0, self.understanding.text, topic.domain.value)
        return [carried, *topics]

    async def _resolve(self, topic: Topic, match: TopicMatch) -> None:
        rules = self.playbook.rules
        if rules.repeat_contact_days is not None and topic.name in self.snapshot.recent_topics:
            self.handed_off.append(HandoffPart(topic.name, Reason.REPEAT_CONTACT))
            return
        if topic.resolve is Resolution.HUMAN:
            self.handed_off.append(HandoffPart(topic.name, Reason.HUMAN_ONLY_TOPIC))
            return
        if topic.resolve is Resolution.ACTION:
            await self._run_action(topic)
            return
        await self._answer_from_knowledge(topic, match)

    async def _run_action(self, topic: Topic) -> None:
        assert topic.action is not None
        action = self.playbook.action(topic.action)
        if action is None:
            self.handed_off.append(HandoffPart(topic.name, Reason.ACTION_FAILED, "unknown action"))
            return
        slots = {SlotKind(kind): value for kind, value in self.understanding.slots.items()}
        outcome = await run_action(
            action,
            facts=contact_facts(self.snapshot.contact, self.snapshot.identities),
            slots=slots,
            vars=self.playbook.vars,
            secrets=self.runtime.secrets,
            http=self.deps.http,
            language=self.lines.language,
            default_language=self.playbook.settings.default_language,
        )
        title = topic.title or topic.name
        match outcome:
            case ActionDone(reply_text=text, facts_text=facts):
                self.actions.append(ActionRun(action.name, topic.name, "done", facts=facts))
                source = Source("action", action.name, title, "\n".join(facts))
                self.parts.append(ReplyPart(topic.name, text, [source]))
            case ActionNotFound(reply_text=text):
                self.actions.append(ActionRun(action.name, topic.name, "not_found"))
                self.parts.append(
                    ReplyPart(topic.name, text, [Source("action", action.name, title, "")])
                )
            case ActionNeedsSlots(missing=missing):
                self.actions.append(
                    ActionRun(action.name, topic.name, "needs_slots", ", ".join(missing))
                )
                pending = self._pending()
                if pending is not None and pending.get("topic") == topic.name:
                    self.handed_off.append(
                        HandoffPart(topic.name, Reason.MISSING_SLOT, ", ".join(missing))
                    )
                else:
                    self.asked = {
                        "topic": topic.name,
                        "action": action.name,
                        "slots": [slot.value for slot in missing],
                    }
            case ActionNeedsIdentity(missing=missing):
                self.actions.append(
                    ActionRun(action.name, topic.name, "needs_identity", ", ".join(missing))
                )
                self.handed_off.append(
                    HandoffPart(topic.name, Reason.UNVERIFIED_IDENTITY, ", ".join(missing))
                )
            case ActionFailed(reason=reason, detail=detail):
                self.actions.append(
                    ActionRun(action.name, topic.name, "failed", f"{reason}: {detail}")
                )
                self.handed_off.append(HandoffPart(topic.name, Reason.ACTION_FAILED, reason))

    async def _answer_from_knowledge(self, topic: Topic, match: TopicMatch) -> None:
        knowledge = self.deps.knowledge
        settings = self.playbook.settings
        passages: Sequence[Passage] = []
        if knowledge is not None:
            query = match.segment or self.understanding.text
            vector = self.segment_vectors.get(query, self.vector)
            for language in dict.fromkeys([self.lines.language, settings.default_language]):
                passages = knowledge.search(self.runtime.workspace_id, query, vector, language, 5)
                if passages and passages[0].score >= settings.knowledge_threshold:
                    break
        if not passages or passages[0].score < settings.knowledge_threshold:
            self.handed_off.append(HandoffPart(topic.name, Reason.NO_KNOWLEDGE))
            return
        best = passages[0]
        chosen = compose.answering_passages(passages)
        passage = "\n\n".join(p.text for p in chosen)
        writer = self.deps.writer
        if writer is not None and best.language != self.lines.language:
            passage = (
                await writer.translate(passage, self.lines.language, source_language=best.language)
                or passage
            )
        text = compose.passage_answer(passage, best.title, self.lines)
        sources = [
            Source("article", f"{p.article_id}#{p.chunk_id}", p.title, p.text) for p in chosen
        ]
        self.parts.append(ReplyPart(topic.name, text, sources))
