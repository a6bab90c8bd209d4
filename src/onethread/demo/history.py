"""Play the demo's recent history (``history_plan.py``) through the domain actions.

Each conversation is played on today's clock, step by step, as the webhooks, the
assistant's turns and the agents would have written it; then its events, messages,
surveys and jobs are moved back to the times the plan gave them, in the same order. The
metrics read event times, so reply delays and handoff pickups come out as planned. The
history's jobs ran long ago: they are marked done, so no worker acts on them again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.models import Agent
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
from onethread.contacts.actions import do_update_contact
from onethread.contacts.identity import SenderIdentity
from onethread.contacts.models import Contact, ContactIdentity
from onethread.conversations import actions
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import (
    Conversation,
    DeliveryStatus,
    Handler,
    Message,
    SenderKind,
    Status,
)
from onethread.db.database import PENDING_EVENTS_KEY
from onethread.db.types import utcnow
from onethread.demo import history_lines as lines
from onethread.demo import script
from onethread.demo.history_plan import Step, Story, plan_history
from onethread.events.models import Event
from onethread.inboxes.models import IDENTITY_CHANNEL, ChannelKind
from onethread.outbox.models import Job, JobStatus
from onethread.surveys.actions import do_record_asked
from onethread.surveys.models import Survey, SurveyKind
from onethread.surveys.questions import question_text

if TYPE_CHECKING:
    from onethread.demo.seed import Cast

EVENT_SPACING = timedelta(milliseconds=100)  # between the events of one step, in order


@dataclass
class _Playing:
    story: Story
    number: int
    conversation: Conversation | None = None
    question: str = ""  # the customer's latest message
    topic: str | None = None  # the topic recorded on the thread


@dataclass
class _Clock:
    """The planned time of every event the history appends, by its rank in the log."""

    now: datetime
    first: int  # events the unit of work had appended before the history
    marks: list[tuple[int, datetime]] = field(default_factory=list)  # per step: rank, time

    def mark(self, session: AsyncSession, at: datetime) -> None:
        self.marks.append((_events_appended(session) - self.first, at))


async def play_history(session: AsyncSession, cast: Cast) -> int:
    """Write the history into the demo workspace; returns how many stories were played."""
    workspace_id = cast.workspace.id
    event_floor = await _last_id(session, Event, workspace_id)
    job_floor = await _last_id(session, Job, workspace_id)
    clock = _Clock(utcnow(), _events_appended(session))
    stories = plan_history(clock.now.date())
    for number, story in enumerate(stories):
        await _play_story(session, cast, _Playing(story, number), clock)
    await session.flush()
    await _move_back(session, workspace_id, event_floor, clock)
    await session.execute(
        update(Job)
        .where(Job.workspace_id == workspace_id, Job.id > job_floor)
        .values(status=JobStatus.DONE.value, attempts=1, finished_at=Job.run_at)
        .execution_options(synchronize_session=False)
    )
    return len(stories)


async def _play_story(session: AsyncSession, cast: Cast, playing: _Playing, clock: _Clock) -> None:
    """Play the steps that already happened; the thread's own times follow at once (a
    customer's next conversation must find this one resolved days ago, not just now)."""
    start = clock.now - timedelta(seconds=playing.story.start_ago)
    times: dict[str, datetime] = {}
    for index, step in enumerate(playing.story.steps):
        at = start + timedelta(seconds=step.at)
        if at >= clock.now:  # the rest of this story has not happened yet
            break
        await _apply(session, cast, playing, step, index)
        clock.mark(session, at)
        times[step.verb] = at
        if step.verb != "resolve":  # every other step writes a message the customer sees
            times["message"] = at
    conversation = playing.conversation
    assert conversation is not None
    conversation.created_at = start  # every story starts a conversation of its own
    conversation.last_message_at = times["message"]
    conversation.last_inbound_at = times["in"]
    if conversation.status == Status.RESOLVED.value:
        conversation.resolved_at = times["resolve"]


def _events_appended(session: AsyncSession) -> int:
    """How many events this unit of work has appended so far (kept until its commit to be
    published): a step's events are those it added, and ids follow the order of adding."""
    return len(session.sync_session.info.get(PENDING_EVENTS_KEY, []))


async def _last_id(session: AsyncSession, model: type[Event] | type[Job], workspace_id: int) -> int:
    last = await session.scalar(
        select(func.max(model.id)).where(model.workspace_id == workspace_id)
    )
    return last or 0


async def _apply(
    session: AsyncSession, cast: Cast, playing: _Playing, step: Step, index: int
) -> None:
    if step.verb == "in":
        await _receive(session, cast, playing, step.args[0], index)
        return
    conversation = playing.conversation
    assert conversation is not None, "a story starts with the customer"
    assignee = next((a for a in cast.agents.values() if a.id == conversation.assignee_id), None)
    if step.verb == "ai":
        await _answer(session, playing, *step.args)
    elif step.verb == "handoff":
        await _hand_off(session, cast, conversation, playing, *step.args)
    elif step.verb == "pickup":
        agent = _agent_of(cast, step.args[0], playing.story)
        actions.do_assign(session, conversation, agent, by=agent)
        text = lines.AGENT_FIRST[playing.number % len(lines.AGENT_FIRST)].format(
            first=playing.story.customer.first_name, agent=agent.name, team=step.args[0]
        )
        await _reply(session, conversation, text, agent=agent)
    elif step.verb == "agent":
        await _reply(session, conversation, step.args[0], agent=assignee)
    elif step.verb == "transfer":
        assert assignee is not None
        text = lines.AGENT_TRANSFER.format(team=step.args[0])
        await _reply(session, conversation, text, agent=assignee)
        actions.do_transfer(session, conversation, cast.teams[step.args[0]], by=assignee)
    elif step.verb == "resolve":
        await actions.do_resolve(session, conversation, by=assignee if step.args[0] else None)
    elif step.verb == "ask":
        kind = SurveyKind(step.args[0])
        question = await _reply(
            session,
            conversation,
            question_text(kind, conversation.language),
            kind=SenderKind.SYSTEM,
            meta={"survey": {"kind": kind.value}},
        )
        inbox = cast.inboxes[playing.story.customer.channel]
        do_record_asked(
            session,
            conversation,
            kind=kind,
            handler=conversation.handler,
            inbox=inbox,
            question=question,
        )
    else:
        raise ValueError(f"unknown history step {step.verb!r}")


async def _receive(
    session: AsyncSession, cast: Cast, playing: _Playing, text: str, index: int
) -> None:
    """A customer's message, as a webhook records it (a survey answer included)."""
    customer = playing.story.customer
    sender = SenderIdentity(
        channel=IDENTITY_CHANNEL[ChannelKind(customer.channel)],
        external_id=customer.handle,
        display_name=customer.name,
        phone=customer.phone,
        email=customer.email,
        verified=bool(customer.phone or customer.email),
    )
    recorded = await actions.do_record_inbound(
        session,
        cast.workspace,
        cast.inboxes[customer.channel],
        InboundMessage(sender=sender, text=text, external_id=f"history-{playing.number}-{index}"),
    )
    playing.conversation = conversation = recorded.conversation
    playing.question = text
    if not recorded.contact.attributes:
        do_update_contact(
            session,
            recorded.contact,
            {"attributes": dict(customer.attributes), "language": "en"},
            by_agent_id=None,
        )
    if recorded.outcome != "survey_answer" and conversation.handler == Handler.HUMAN.value:
        # The assistant's turn on a thread people handle: it stays silent, and says why.
        silent = Decision(Outcome.SILENT, Reason.HUMAN_HANDLES).record()
        actions.do_record_assistant_decision(session, conversation, silent)


async def _answer(
    session: AsyncSession,
    playing: _Playing,
    reason: str,
    topic: str | None,
    confidence: float,
) -> None:
    """The assistant answers from an article or an action's result, or to small talk."""
    conversation, question = playing.conversation, playing.question
    assert conversation is not None
    if topic is None:
        decision = Decision(
            Outcome.REPLY, Reason(reason), _understood(question, None, 0.0), reply=lines.WELCOME
        )
    else:
        lines_of = lines.TOPICS[topic]
        source, runs = _grounding(topic, lines_of.answer)
        decision = Decision(
            Outcome.REPLY,
            Reason(reason),
            _understood(question, topic, confidence),
            reply=lines_of.answer,
            parts=[ReplyPart(topic, lines_of.answer, [source])],
            actions=runs,
        )
        await _set_topics(session, playing, topic)
    record = decision.record()
    assert decision.reply is not None
    await _reply(session, conversation, decision.reply, kind=SenderKind.AI, meta=record)
    actions.do_record_assistant_decision(session, conversation, record)


async def _hand_off(
    session: AsyncSession,
    cast: Cast,
    conversation: Conversation,
    playing: _Playing,
    reason: str,
    topic: str | None,
    team: str,
    confidence: float,
) -> None:
    """The assistant hands off: the customer is told, the team gets a summary note."""
    question = playing.question
    runs = []
    if reason == Reason.ACTION_FAILED.value and topic is not None:
        action = lines.TOPICS[topic].source.split(":")[1]
        runs = [ActionRun(action, topic, "failed", lines.ACTION_FAILED_NOTE)]
    understanding = _understood(question, topic, confidence)
    if reason == Reason.NEGATIVE_SENTIMENT.value:
        understanding.sentiment = -0.7
    understanding.asks_for_human = reason == Reason.CUSTOMER_REQUESTED_HUMAN.value
    decision = Decision(
        Outcome.HANDOFF,
        Reason(reason),
        understanding,
        reply=lines.HANDOFF_LINE.format(team=team),
        handoff_parts=[HandoffPart(topic, Reason(reason))],
        actions=runs,
    )
    record = decision.record()
    if topic is not None:
        await _set_topics(session, playing, topic)
    await _reply(
        session, conversation, lines.HANDOFF_LINE.format(team=team), kind=SenderKind.AI, meta=record
    )
    plan = playing.story.customer.attributes
    await actions.do_hand_off(
        session,
        conversation,
        reason=reason,
        team=cast.teams[team],
        summary=(
            f"{question} — handed off: {reason.replace('_', ' ')}. {plan['plan']} plan, "
            f"customer since {plan['customer_since']}. Language: en."
        ),
        details={"topics": [topic] if topic else []},
    )
    actions.do_record_assistant_decision(session, conversation, record)


def _understood(text: str, topic: str | None, confidence: float) -> Understanding:
    matches = []
    if topic is not None:
        domain = lines.TOPICS[topic].domain
        matches = [TopicMatch(topic, round(confidence, 2), text, domain)]
    return Understanding(text, "en", 0.98, matches, {}, 0.1, False)


def _grounding(topic: str, answer: str) -> tuple[Source, list[ActionRun]]:
    kind, ref, *title = lines.TOPICS[topic].source.split(":")
    if kind == "action":
        return Source("action", ref, ref, answer), [ActionRun(ref, topic, "done", facts=[answer])]
    return Source("article", ref, title[0], answer), []


async def _set_topics(session: AsyncSession, playing: _Playing, topic: str) -> None:
    """Recorded when the assistant first finds the topic (as ``write_decision`` does)."""
    if playing.topic == topic or playing.conversation is None:
        return
    playing.topic = topic
    domain = lines.TOPICS[topic].domain
    await actions.do_set_topics(
        session, playing.conversation, [(topic, domain)], by=None, language="en"
    )


async def _reply(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    *,
    agent: Agent | None = None,
    kind: SenderKind = SenderKind.AGENT,
    meta: dict[str, Any] | None = None,
) -> Message:
    """A reply and the provider's receipt: delivered (as delivery news records it)."""
    message = await actions.do_send_reply(
        session, conversation, text=text, agent=agent, sender_kind=kind, ai_meta=meta
    )
    actions.do_update_delivery(
        session, message, DeliveryStatus.DELIVERED, external_id=f"out-{message.id}"
    )
    return message


def _agent_of(cast: Cast, team: str, story: Story) -> Agent:
    """The same teammate for a customer every time (a transfer back returns to them)."""
    members = [cast.agents[email] for email, *_, name in script.AGENTS if name == team]
    return members[story.customer.number % len(members)]


async def _move_back(
    session: AsyncSession, workspace_id: int, event_floor: int, clock: _Clock
) -> None:
    """Give the history's rows their planned times: each step's events in log order, each
    message its event's time, surveys their messages' times, contacts their first event's."""
    events = (
        await session.scalars(
            select(Event)
            .where(Event.workspace_id == workspace_id, Event.id > event_floor)
            .order_by(Event.id)
        )
    ).all()
    assert len(events) == clock.marks[-1][0], "events are numbered in the order they were added"
    message_times: dict[int, datetime] = {}
    contact_times: dict[int, datetime] = {}
    step, moment = 0, clock.marks[0][1]
    for rank, event in enumerate(events, start=1):
        while rank > clock.marks[step][0]:
            step += 1
            moment = clock.marks[step][1]
        event.created_at = moment
        if event.message_id is not None:
            message_times.setdefault(event.message_id, moment)
        if event.contact_id is not None:
            contact_times.setdefault(event.contact_id, moment)
        moment += EVENT_SPACING
    for message in await session.scalars(
        select(Message).where(Message.id.in_(list(message_times)))
    ):
        message.created_at = message_times[message.id]
    for survey in await session.scalars(
        select(Survey).where(Survey.question_message_id.in_(list(message_times)))
    ):
        assert survey.question_message_id is not None
        survey.asked_at = message_times[survey.question_message_id]
        if survey.answer_message_id is not None:
            survey.answered_at = message_times[survey.answer_message_id]
    for contact in await session.scalars(
        select(Contact).where(Contact.id.in_(list(contact_times)), Contact.created_at >= clock.now)
    ):
        contact.created_at = contact.updated_at = contact_times[contact.id]
    for identity in await session.scalars(
        select(ContactIdentity).where(
            ContactIdentity.contact_id.in_(list(contact_times)),
            ContactIdentity.created_at >= clock.now,
        )
    ):
        identity.created_at = contact_times[identity.contact_id]
