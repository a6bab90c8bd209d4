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

from onethread.assistant import compose
from onethread.assistant.decision import (
    Decision,
    Outcome,
    Reason,
)
from onethread.assistant.deps import AssistantDeps, PlaybookRuntime
from onethread.assistant.lines import Lines
from onethread.assistant.llm.uses import GroundedWriter
from onethread.assistant.policy import gate
from onethread.assistant.snapshot import ConversationSnapshot
from onethread.assistant.turn import Turn
from onethread.assistant.understanding import (
    encode_turn,
    understand,
)
from onethread.playbook.schemas import Playbook


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
    turn = Turn(snapshot, runtime, deps, understanding, vector, dict(segments))
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
    turn = Turn(snapshot, runtime, deps, understanding, vector, dict(segments))
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
