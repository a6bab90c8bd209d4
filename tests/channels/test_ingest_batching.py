"""Group commit and the lean inbound path: concurrent webhooks, on real databases."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.contacts.identity import SenderIdentity
from onethread.contacts.models import Contact, ContactIdentity
from onethread.conversations.actions.receiving import record_in_general
from onethread.conversations.actions.receiving_many import Arrival, InboxRef, do_record_many
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import Conversation, Message
from onethread.db.group_commit import GroupCommit
from onethread.events.log import append_event
from onethread.events.models import Event
from onethread.events.types import EventType
from onethread.inboxes.models import Inbox
from onethread.jobs.context import JobContext
from onethread.outbox.models import Job
from onethread.surveys.models import Survey
from onethread.workspaces.models import Workspace
from tests.channels.conftest import drain, fixture, meta_bytes, post_meta
from tests.channels.test_whatsapp_e2e import path_of, whatsapp_inbox
from tests.conftest import Harness
from tests.factories import workspace
from tests.fakes.graph_api import FakeGraphApi


def text_webhook(wamid: str, number: str = "16505551234", text: str = "Hello") -> bytes:
    body: dict[str, Any] = copy.deepcopy(fixture("whatsapp_text.json")["body"])
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = number
    message = value["messages"][0]
    message.update({"id": wamid, "from": number})
    message["text"]["body"] = text
    return meta_bytes(body)


async def count(harness: Harness, query: Any) -> int:
    async with harness.db.read_session() as session:
        return int(await session.scalar(query) or 0)


def columns(row: Any, *skip: str) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.c if c.key not in skip}


async def test_concurrent_redeliveries_are_stored_once(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    path = path_of(await whatsapp_inbox(admin, graph))
    raw = text_webhook("wamid.same")
    responses = await asyncio.gather(*(post_meta(harness.client, path, raw) for _ in range(12)))
    assert [r.status_code for r in responses] == [200] * 12
    assert await count(harness, select(func.count()).select_from(Message)) == 1
    assert await count(harness, select(func.count()).select_from(Job)) == 1


async def test_one_thread_per_sender_under_concurrency(
    harness: Harness, graph: FakeGraphApi
) -> None:
    """A new sender's first messages arrive together: one contact, one open thread."""
    admin = await workspace(harness)
    path = path_of(await whatsapp_inbox(admin, graph))
    posts = [post_meta(harness.client, path, text_webhook(f"wamid.{n}")) for n in range(16)]
    assert {r.status_code for r in await asyncio.gather(*posts)} == {200}
    async with harness.db.read_session() as session:
        threads = list((await session.scalars(select(Conversation))).all())
        stored = await session.scalar(select(func.count()).select_from(Message))
        received = await session.scalar(
            select(func.count()).where(Event.type == EventType.MESSAGE_RECEIVED.value)
        )
        turns = await session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == "assistant.turn")
        )
    assert len(threads) == 1
    assert (stored, received, turns) == (16, 16, 16)


async def test_a_returning_customer_takes_the_lean_path_with_the_same_rows(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    path = path_of(await whatsapp_inbox(admin, graph))
    assert (await post_meta(harness.client, path, text_webhook("wamid.first"))).status_code == 200
    async with harness.db.session() as session:  # the thread waits on the customer
        await session.execute(update(Conversation).values(status="pending"))
    subscription = harness.app_context.bus.subscribe()
    response = await post_meta(harness.client, path, text_webhook("wamid.second", text="Again"))
    assert response.status_code == 200
    published = [subscription.queue.get_nowait() for _ in range(subscription.queue.qsize())]
    subscription.close()
    assert [event["type"] for event in published] == ["conversation.woken", "message.received"]
    woken, received = published
    assert woken["data"] == {"from": "pending", "by": "message"}
    assert received["data"]["outcome"] == "joined"
    async with harness.db.read_session() as session:
        [thread] = (await session.scalars(select(Conversation))).all()
        second = await session.scalar(select(Message).where(Message.external_id == "wamid.second"))
        stored_events = (await session.scalars(select(Event).order_by(Event.id))).all()
        job = await session.scalar(select(Job).order_by(Job.id.desc()).limit(1))
        first = await session.scalar(select(Message).where(Message.external_id == "wamid.first"))
        first_job = await session.scalar(select(Job).order_by(Job.id).limit(1))
    assert second is not None
    assert job is not None
    # Column for column, the lean path's rows are the general path's.
    assert columns(second, "id", "text", "external_id", "created_at") == columns(
        first, "id", "text", "external_id", "created_at"
    )
    assert columns(job, "id", "payload", "run_at", "created_at") == columns(
        first_job, "id", "payload", "run_at", "created_at"
    )
    assert thread.status == "open"
    assert thread.last_message_at == second.created_at
    assert (second.conversation_id, second.text, second.direction) == (thread.id, "Again", "in")
    assert received["message_id"] == second.id
    assert [e.id for e in stored_events][-2:] == [woken["id"], received["id"]]
    assert job.payload == {
        "conversation_id": thread.id,
        "message_id": second.id,
        "request_id": response.headers["x-request-id"],  # docs/operations.md
    }


async def test_a_rotated_app_secret_takes_effect_at_once(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    path = path_of(created)
    assert (await post_meta(harness.client, path, text_webhook("wamid.a"))).status_code == 200
    await admin.ok("PATCH", f"/inboxes/{created['id']}", json={"config": {"app_secret": "new"}})
    response = await post_meta(harness.client, path, text_webhook("wamid.b"), secret="new")
    assert response.status_code == 200
    wrong = await post_meta(harness.client, path, text_webhook("wamid.c"), secret="wrong")
    assert wrong.status_code == 401


# --- the group commit itself ---------------------------------------------------------------


def event_work(workspace_id: int, name: str, *, fail: bool = False) -> Any:
    async def work(session: AsyncSession) -> str:
        append_event(session, workspace_id, EventType.CONTACT_UPDATED, data={"name": name})
        await asyncio.sleep(0)
        if fail:
            raise ValueError(f"{name} is refused")
        return name

    return work


async def test_one_failing_unit_fails_alone_and_only_committed_events_are_published(
    harness: Harness,
) -> None:
    admin = await workspace(harness)
    published: list[dict[str, Any]] = []
    group = GroupCommit(harness.db.sessions, in_flight=1)
    harness.db.set_publisher(published.extend)
    try:
        names = [f"unit{n}" for n in range(8)]
        outcomes = await asyncio.gather(
            *(
                group.run(event_work(admin.workspace_id, name, fail=name == "unit3"))
                for name in names
            ),
            return_exceptions=True,
        )
    finally:
        harness.db.set_publisher(harness.app_context.bus.publish)
    assert isinstance(outcomes[3], ValueError)
    assert [o for o in outcomes if not isinstance(o, BaseException)] == [
        n for n in names if n != "unit3"
    ]
    async with harness.db.read_session() as session:
        stored = (
            await session.scalars(
                select(Event.data).where(Event.type == EventType.CONTACT_UPDATED.value)
            )
        ).all()
    expected = sorted(n for n in names if n != "unit3")
    assert sorted(data["name"] for data in stored) == expected
    # Published once each, after the commit that kept them; never the refused unit's.
    assert sorted(event["data"]["name"] for event in published) == expected


async def test_a_unique_refusal_is_retried_then_reported_to_its_unit_only(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    assert (
        await post_meta(harness.client, path_of(created), text_webhook("w0"))
    ).status_code == 200
    async with harness.db.read_session() as session:
        thread = await session.scalar(select(Conversation.id))
    runs: list[str] = []

    def add_message(name: str, external_id: str) -> Any:
        async def work(session: AsyncSession) -> str:
            runs.append(name)
            session.add(
                Message(
                    workspace_id=admin.workspace_id,
                    conversation_id=thread,
                    inbox_id=created["id"],
                    direction="in",
                    sender_kind="contact",
                    text=name,
                    attachments=[],
                    private=False,
                    external_id=external_id,
                )
            )
            return name

        return work

    group = GroupCommit(harness.db.sessions, in_flight=1, attempts=3)
    first, second, third = await asyncio.gather(
        group.run(add_message("first", "dup")),
        group.run(add_message("second", "dup")),
        group.run(add_message("third", "other")),
        return_exceptions=True,
    )
    assert (first, third) == ("first", "third")
    assert isinstance(second, IntegrityError)
    assert runs.count("second") == 3  # retried as a race would be, then refused alone
    async with harness.db.read_session() as session:
        texts = (await session.scalars(select(Message.text).order_by(Message.id))).all()
    assert list(texts)[1:] == ["first", "third"]


# --- many messages in a few statements, against the general path --------------------------


def sender(number: str, name: str = "Ada") -> SenderIdentity:
    return SenderIdentity(
        channel="whatsapp",
        external_id=number,
        display_name=name,
        phone=f"+{number}",
        verified=True,
        details={"wa_id": number},
    )


def inbound_from(number: str, wamid: str, text: str = "Hello") -> InboundMessage:
    return InboundMessage(sender=sender(number), text=text, external_id=wamid)


IDS = ("id", "contact_id", "conversation_id", "identity_id", "message_id", "last_inbox_id")
TIMES = ("created_at", "updated_at", "last_message_at", "last_inbound_at", "run_at")


async def rows_of_contact(harness: Harness, contact_id: int) -> dict[str, Any]:
    """Every row a first message left for this contact, ids and times left out."""
    async with harness.db.read_session() as session:
        contact = await session.get(Contact, contact_id)
        identity = await session.scalar(
            select(ContactIdentity).where(ContactIdentity.contact_id == contact_id)
        )
        thread = await session.scalar(
            select(Conversation).where(Conversation.contact_id == contact_id)
        )
        assert thread is not None
        message = await session.scalar(select(Message).where(Message.conversation_id == thread.id))
        assert message is not None
        job = await session.scalar(
            select(Job).where(Job.payload["message_id"].as_integer() == message.id)
        )
        events = (
            await session.scalars(
                select(Event).where(Event.contact_id == contact_id).order_by(Event.id)
            )
        ).all()
    skip = (*IDS, *TIMES, "external_id", "phone", "details")
    return {
        "contact": columns(contact, *skip),
        "identity": columns(identity, *skip),
        "thread": columns(thread, *skip),
        "message": columns(message, *skip),
        "job": columns(job, *skip, "payload"),
        "events": [
            (
                e.type,
                e.conversation_id == thread.id if e.conversation_id else None,
                e.message_id == message.id if e.message_id else None,
                {k: v for k, v in e.data.items() if k != "identity_id"},
                e.data.get("identity_id") in (None, identity.id if identity else None),
            )
            for e in events
        ],
    }


async def test_a_first_contact_writes_the_rows_of_the_general_path(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    async with harness.db.session() as session:
        ws = await session.get(Workspace, admin.workspace_id)
        box = await session.get(Inbox, created["id"])
        assert ws is not None
        assert box is not None
        ref = InboxRef(box.id, ws.id, box.channel)
        [fast] = await do_record_many(session, [Arrival(ref, inbound_from("15550001", "w.1"))])
        general = await record_in_general(session, ws, box, inbound_from("15550002", "w.2"))
    assert fast is not None
    assert (fast.outcome, general.outcome) == ("created", "created")
    assert await rows_of_contact(harness, fast.contact.id) == await rows_of_contact(
        harness, general.contact.id
    )


async def test_a_returning_sender_writes_the_rows_of_the_general_path(
    harness: Harness, graph: FakeGraphApi
) -> None:
    """The same pending thread joined by both paths: same message, event and job rows."""
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    number = "15550003"
    path = path_of(created)
    assert (await post_meta(harness.client, path, text_webhook("w.a", number))).status_code == 200
    outcomes = []
    for name, wamid in (("many", "w.b"), ("general", "w.c")):
        async with harness.db.session() as session:
            await session.execute(update(Conversation).values(status="snoozed"))
            ws = await session.get(Workspace, admin.workspace_id)
            box = await session.get(Inbox, created["id"])
            assert ws is not None
            assert box is not None
            if name == "many":
                ref = InboxRef(box.id, ws.id, box.channel)
                [done] = await do_record_many(session, [Arrival(ref, inbound_from(number, wamid))])
                assert done is not None
            else:
                done = await record_in_general(session, ws, box, inbound_from(number, wamid))
            outcomes.append(done.outcome)
    assert outcomes == ["joined", "joined"]
    async with harness.db.read_session() as session:
        b, c = [
            await session.scalar(select(Message).where(Message.external_id == wamid))
            for wamid in ("w.b", "w.c")
        ]
        events = (await session.scalars(select(Event).order_by(Event.id))).all()
        jobs = (await session.scalars(select(Job).order_by(Job.id))).all()
    assert b is not None
    assert c is not None
    assert columns(b, "id", "external_id", "created_at") == columns(
        c, "id", "external_id", "created_at"
    )
    tail = [(e.type, e.message_id, e.data) for e in events][-4:]
    woken = {"from": "snoozed", "by": "message"}
    received = {"inbox_id": created["id"], "channel": "whatsapp", "attachments": 0}
    assert tail == [
        ("conversation.woken", None, woken),
        ("message.received", b.id, received | {"outcome": "joined"}),
        ("conversation.woken", None, woken),
        ("message.received", c.id, received | {"outcome": "joined"}),
    ]
    assert columns(jobs[-2], "id", "payload", "run_at", "created_at") == columns(
        jobs[-1], "id", "payload", "run_at", "created_at"
    )


async def test_one_batch_of_every_kind_of_arrival(harness: Harness, graph: FakeGraphApi) -> None:
    """Returning senders, first contacts, a sender twice, a repeated id, a stored id, and two
    first contacts with one verified phone, all in one call: each stored as alone."""
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    path = path_of(created)
    for n in range(3):
        raw = text_webhook(f"w.old{n}", f"1555000{n}")
        assert (await post_meta(harness.client, path, raw)).status_code == 200
    twin_a = inbound_from("15559999", "w.twin-a")
    twin_b = InboundMessage(
        sender=SenderIdentity(
            channel="sms", external_id="+15559999", phone="+15559999", verified=True
        ),
        text="same person, by SMS",
        external_id="w.twin-b",
    )
    arrivals = [
        inbound_from("15550000", "w.r0"),  # returning
        inbound_from("15550001", "w.r1"),  # returning
        inbound_from("15551111", "w.n1"),  # first contact
        inbound_from("15552222", "w.n2a"),  # a first contact twice
        inbound_from("15552222", "w.n2b"),
        inbound_from("15550002", "w.old2"),  # stored already
        inbound_from("15553333", "w.same"),  # one id twice
        inbound_from("15553333", "w.same"),
        twin_a,
        twin_b,
    ]
    async with harness.db.session() as session:
        ws = await session.get(Workspace, admin.workspace_id)
        box = await session.get(Inbox, created["id"])
        assert ws is not None
        assert box is not None
        ref = InboxRef(box.id, ws.id, box.channel)
        many = await do_record_many(session, [Arrival(ref, a) for a in arrivals])
        assert [r.outcome if r else None for r in many] == [
            "joined",
            "joined",
            "created",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ]
        rest = [
            (await record_in_general(session, ws, box, a)).outcome
            for a, r in zip(arrivals, many, strict=True)
            if r is None
        ]
    assert rest == ["created", "joined", "duplicate", "created", "duplicate", "created", "joined"]
    async with harness.db.read_session() as session:
        contacts = await session.scalar(select(func.count()).select_from(Contact))
        threads = await session.scalar(select(func.count()).select_from(Conversation))
        stored = await session.scalar(select(func.count()).select_from(Message))
        received = await session.scalar(
            select(func.count()).where(Event.type == EventType.MESSAGE_RECEIVED.value)
        )
        turns = await session.scalar(select(func.count()).select_from(Job))
    # 3 old + 15551111 + 15552222 + 15553333 + the twins as one person
    assert (contacts, threads) == (7, 7)
    assert (stored, received, turns) == (3 + 8, 3 + 8, 3 + 8)


async def test_a_survey_answer_is_left_to_the_general_path_with_the_same_rows(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    """Two resolved threads, each asked CSAT: one answer comes through a webhook (the batch
    step, then the ordered path), the other straight through the general path. The batch
    step takes neither; both are stored alike, and neither reopens its thread."""
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    surveys = {"ai_mode": "off", "config": {"surveys": {"csat": True}}}
    await admin.ok("PATCH", f"/inboxes/{created['id']}", json=surveys)
    path = path_of(created)
    numbers = ("15550011", "15550012")
    for number in numbers:
        raw = text_webhook(f"w.q{number}", number, "Help?")
        assert (await post_meta(harness.client, path, raw)).status_code == 200
    async with harness.db.read_session() as session:
        threads = (await session.scalars(select(Conversation).order_by(Conversation.id))).all()
    for thread in threads:
        await admin.ok("POST", f"/conversations/{thread.id}/resolve")
    await drain(harness, job_context)
    async with harness.db.read_session() as session:  # as resolved, to compare after
        threads = (await session.scalars(select(Conversation).order_by(Conversation.id))).all()
    answer = "4 - slow but solved"
    async with harness.db.session() as session:
        ws = await session.get(Workspace, admin.workspace_id)
        box = await session.get(Inbox, created["id"])
        assert ws is not None
        assert box is not None
        ref = InboxRef(box.id, ws.id, box.channel)
        offered = Arrival(ref, inbound_from(numbers[0], "w.a0", answer))
        assert await do_record_many(session, [offered]) == [None]
    webhook = await post_meta(harness.client, path, text_webhook("w.a0", numbers[0], answer))
    assert webhook.status_code == 200
    async with harness.db.session() as session:
        general = await record_in_general(
            session, ws, box, inbound_from(numbers[1], "w.a1", answer)
        )
    assert general.outcome == "survey_answer"

    async def rows_of(thread: Conversation) -> dict[str, Any]:
        async with harness.db.read_session() as session:
            stored = await session.get(Conversation, thread.id)
            message = await session.scalar(
                select(Message)
                .where(Message.conversation_id == thread.id, Message.direction == "in")
                .order_by(Message.id.desc())
                .limit(1)
            )
            survey = await session.scalar(select(Survey).where(Survey.conversation_id == thread.id))
            events = (
                await session.scalars(
                    select(Event).where(Event.conversation_id == thread.id).order_by(Event.id)
                )
            ).all()
        assert stored is not None
        assert message is not None
        skip = (*IDS, *TIMES, "external_id", "sent_at")
        return {
            "thread": (stored.status, stored.resolved_at == thread.resolved_at),
            "message": columns(message, *skip),
            "survey": columns(
                survey, *skip, "question_message_id", "answer_message_id", "asked_at", "answered_at"
            ),
            "events": [(e.type, e.data) for e in events][-2:],
        }

    by_webhook, by_general = [await rows_of(thread) for thread in threads]
    assert by_webhook == by_general
    assert by_webhook["thread"] == ("resolved", True), "still resolved, as it was"
    assert by_webhook["events"] == [
        (
            "message.received",
            {
                "inbox_id": created["id"],
                "channel": "whatsapp",
                "outcome": "survey_answer",
                "attachments": 0,
            },
        ),
        (
            "survey.answered",
            {"kind": "csat", "score": 4, "comment": "slow but solved", "handler": "ai"},
        ),
    ]
    async with harness.db.read_session() as session:
        turns = await session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == "assistant.turn")
        )
    assert turns == 2, "the first messages' turns only: answers wake no assistant"


async def test_a_failing_batch_step_reruns_each_unit_alone(harness: Harness) -> None:
    admin = await workspace(harness)
    steps: list[list[str]] = []

    async def step(session: AsyncSession, payloads: list[Any]) -> None:
        steps.append(list(payloads))
        if "bad" in payloads:
            raise ValueError("the step refuses 'bad'")

    group = GroupCommit(harness.db.sessions, in_flight=1)
    names = ["a", "bad", "c"]
    outcomes = await asyncio.gather(
        *(
            group.run(event_work(admin.workspace_id, name), step=step, payload=name)
            for name in names
        ),
        return_exceptions=True,
    )
    assert outcomes[0] == "a"
    assert outcomes[2] == "c"
    assert isinstance(outcomes[1], ValueError)
    # Once for the batch, then once for each unit alone.
    assert steps == [names, ["a"], ["bad"], ["c"]]
    async with harness.db.read_session() as session:
        stored = (
            await session.scalars(
                select(Event.data).where(Event.type == EventType.CONTACT_UPDATED.value)
            )
        ).all()
    assert sorted(data["name"] for data in stored) == ["a", "c"]
