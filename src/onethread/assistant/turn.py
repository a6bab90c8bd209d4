"""One turn's topics, resolved one by one: handed off, answered by an action, or from
the knowledge base. ``brain.decide`` runs the checks before it and composes after it."""

from __future__ import annotations

from collections.abc import Sequence

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
from onethread.assistant.deps import AssistantDeps, Passage, PlaybookRuntime
from onethread.assistant.lines import Lines
from onethread.assistant.snapshot import ConversationSnapshot
from onethread.assistant.understanding import small_talk
from onethread.conversations.models import SenderKind
from onethread.playbook.schemas import Resolution, SlotKind, Topic


class Turn:
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
            case ActionDone(reply_text=text, facts_text=facts, contact_updates=updates):
                self.actions.append(
                    ActionRun(action.name, topic.name, "done", facts=facts, contact_updates=updates)
                )
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
