"""Tenancy: nothing of workspace B can be read, changed or referenced from workspace A.

Two workspaces hold one resource of every kind. Every route taking an id in its path is
called as A's admin and as A's plain agent with B's ids (a 404, and not a row changes);
lists never show B's rows, whatever the filters; bodies naming B's ids are refused.
The routes come from the app's OpenAPI document: a route added without a matrix entry
fails ``test_the_matrix_covers_every_route_with_an_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from onethread.agents.models import Agent, Team
from onethread.contacts.models import Contact
from onethread.conversations.models import Conversation, Message
from onethread.db.types import utcnow
from onethread.events.models import Event
from onethread.inboxes.models import Inbox
from onethread.integrations.models import WebhookDelivery
from onethread.knowledge.models import Article
from onethread.outbox.models import Job, JobStatus
from tests.conftest import Harness
from tests.factories import Api, Snapshot, agent, inbound, inbox, snapshot, workspace

API_PREFIX = "/api/v1"
SHARED_PHONE = "+15551230000"  # the same customer writes to both businesses


@dataclass
class Tenant:
    """A workspace with one resource of every kind; ``ids`` is keyed by path parameter."""

    admin: Api
    agent: Api
    ids: dict[str, int]
    second_contact_id: int


async def seed(harness: Harness, label: str) -> Tenant:
    admin = await workspace(harness, name=f"Workspace {label}")
    plain = await agent(admin)
    team = await admin.ok(
        "POST",
        "/teams",
        201,
        json={"name": "Billing", "domain": "service", "member_ids": [plain.agent_id]},
    )
    whatsapp = await inbox(admin, "whatsapp")
    first = await inbound(
        admin,
        whatsapp["id"],
        SHARED_PHONE.lstrip("+"),
        f"{label} says: my invoice is wrong",
        sender_phone=SHARED_PHONE,
        verified=True,
        external_id="wamid.same-in-both",
    )
    conversation_id = first["conversation_id"]
    await admin.ok(
        "POST",
        f"/conversations/{conversation_id}/reply",
        201,
        json={"text": f"{label} answers: looking into it"},
    )
    await admin.ok(
        "POST",
        f"/conversations/{conversation_id}/notes",
        201,
        json={"text": "internal", "mentions": [plain.agent_id]},
    )
    await admin.ok(
        "POST",
        f"/conversations/{conversation_id}/transfer",
        json={"team_id": team["id"], "keep_assignee": True},
    )
    second = await admin.ok(
        "POST", "/contacts", 201, json={"name": f"{label} Second", "phone": "+15559990000"}
    )
    spare_token = await admin.ok("POST", "/tokens", 201, json={"name": "spare"})
    article = await admin.ok(
        "POST",
        "/knowledge/articles",
        201,
        json={"body": f"# {label} refunds\n\n{label} refunds within 14 days."},
    )
    canned = await admin.ok(
        "POST",
        "/canned_responses",
        201,
        json={"shortcut": "refunds", "title": f"{label} refunds", "text": f"{label} refunds"},
    )
    job_id = await _a_dead_job(harness, admin.workspace_id)
    await _a_stored_attachment(harness, first["message"]["id"], label)
    webhook, delivery_id = await _a_webhook_with_a_failed_delivery(harness, admin, label)
    return Tenant(
        admin=admin,
        agent=plain,
        second_contact_id=second["id"],
        ids={
            "agent_id": plain.agent_id,
            "team_id": team["id"],
            "inbox_id": whatsapp["id"],
            "contact_id": first["contact_id"],
            "conversation_id": conversation_id,
            "token_id": spare_token["id"],
            "job_id": job_id,
            "message_id": first["message"]["id"],
            "index": 0,
            "article_id": article["id"],
            "canned_id": canned["id"],
            "webhook_id": webhook["id"],
            "delivery_id": delivery_id,
        },
    )


async def _a_webhook_with_a_failed_delivery(
    harness: Harness, admin: Api, label: str
) -> tuple[dict[str, Any], int]:
    webhook: dict[str, Any] = await admin.ok(
        "POST",
        "/webhooks",
        201,
        json={"url": f"https://hooks.example.com/{label}", "event_types": ["contact.updated"]},
    )
    ping = await admin.ok("POST", f"/webhooks/{webhook['id']}/test", 202)
    async with harness.db.session() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == ping["id"])
            .values(status="failed", attempts=8, last_error="HTTP 500")
        )
    return webhook, ping["id"]


async def _a_stored_attachment(harness: Harness, message_id: int, label: str) -> None:
    """Give the first message a picture, as the media job leaves one on disk."""
    relative = f"{label}/{message_id}/0.png"
    target = harness.app_context.settings.resolved_media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(f"{label}'s picture".encode())
    async with harness.db.session() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        message.attachments = [
            {"type": "image", "status": "stored", "path": relative, "mime_type": "image/png"}
        ]


async def _a_dead_job(harness: Harness, workspace_id: int) -> int:
    """Kill the workspace's assistant job, as a worker would after its last attempt."""
    async with harness.db.session() as session:
        job = await session.scalar(
            select(Job).where(Job.workspace_id == workspace_id, Job.kind == "assistant.turn")
        )
        assert job is not None
        await session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(
                status=JobStatus.DEAD.value,
                attempts=job.max_attempts,
                last_error="provider down",
                finished_at=utcnow(),
            )
        )
        return job.id


async def two_tenants(harness: Harness) -> tuple[Tenant, Tenant]:
    return await seed(harness, "A"), await seed(harness, "B")


def changed_tables(before: Snapshot, after: Snapshot) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of a failure, after checking the one error shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}, body
    assert isinstance(error["message"], str), body
    assert error["message"], body
    return error


async def call(api: Api, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
    return await (
        api.request(method, path) if body is None else api.request(method, path, json=body)
    )


async def id_routes(harness: Harness) -> set[tuple[str, str]]:
    """(method, path) of every agent API operation whose path takes a parameter.

    Provider webhooks (``/webhooks/...``) are authenticated by signatures, not by
    agents; tests/channels covers them. The chat widget's routes (``/api/v1/widget/...``)
    are left out too: a visitor token signed for one inbox opens them, not an agent's,
    and tests/channels/test_widget_api.py shows that another workspace's, inbox's or
    visitor's messages and events never reach a visitor.
    """
    document = (await harness.client.get(f"{API_PREFIX}/openapi.json")).json()
    return {
        (method.upper(), path.removeprefix(API_PREFIX))
        for path, operations in document["paths"].items()
        if "{" in path
        and path.startswith(API_PREFIX)
        and not path.startswith(f"{API_PREFIX}/widget/")
        for method in operations
    }


# -- the matrix: one valid body per route that takes an id ------------------------------

BodyOf = Callable[[Tenant], dict[str, Any]]


@dataclass
class Case:
    """How to call a route: a valid body built from the *caller's* own tenant, if any."""

    body: BodyOf | None = None
    admin_only: bool = False

    def body_for(self, own: Tenant) -> dict[str, Any] | None:
        return self.body(own) if self.body else None


def _in_a_day(_own: Tenant) -> dict[str, Any]:
    return {"until": (utcnow() + timedelta(days=1)).isoformat()}


# In an order that succeeds when played on the caller's own ids (the positive control).
ID_ROUTES: dict[tuple[str, str], Case] = {
    ("GET", "/agents/{agent_id}"): Case(),
    ("PATCH", "/agents/{agent_id}"): Case(lambda own: {"name": "Renamed"}, admin_only=True),
    ("GET", "/teams/{team_id}"): Case(),
    ("PATCH", "/teams/{team_id}"): Case(
        lambda own: {"name": "Renamed", "member_ids": [own.ids["agent_id"]]}, admin_only=True
    ),
    ("GET", "/inboxes/{inbox_id}"): Case(),
    ("PATCH", "/inboxes/{inbox_id}"): Case(
        lambda own: {"name": "Renamed", "ai_mode": "off", "config": {"app_secret": "rotated"}},
        admin_only=True,
    ),
    ("POST", "/inboxes/{inbox_id}/inbound"): Case(
        lambda own: {"sender_id": "15550004444", "text": "a new customer"}
    ),
    ("GET", "/contacts/{contact_id}"): Case(),
    ("PATCH", "/contacts/{contact_id}"): Case(
        lambda own: {"name": "Renamed", "attributes": {"plan": "pro"}}
    ),
    ("POST", "/contacts/{contact_id}/merge"): Case(
        lambda own: {"source_id": own.second_contact_id}
    ),
    ("GET", "/conversations/{conversation_id}"): Case(),
    ("GET", "/conversations/{conversation_id}/messages"): Case(),
    ("POST", "/conversations/{conversation_id}/suggestion"): Case(),
    ("POST", "/conversations/{conversation_id}/reply"): Case(lambda own: {"text": "On it"}),
    ("POST", "/conversations/{conversation_id}/notes"): Case(
        lambda own: {"text": "see this", "mentions": [own.ids["agent_id"]]}
    ),
    ("POST", "/conversations/{conversation_id}/assign"): Case(
        lambda own: {"assignee_id": own.ids["agent_id"]}
    ),
    ("POST", "/conversations/{conversation_id}/transfer"): Case(
        lambda own: {"team_id": own.ids["team_id"]}
    ),
    ("POST", "/conversations/{conversation_id}/handoff"): Case(
        lambda own: {"reason": "billing", "team_id": own.ids["team_id"], "summary": "Invoice"}
    ),
    ("POST", "/conversations/{conversation_id}/handback"): Case(),
    ("POST", "/conversations/{conversation_id}/priority"): Case(lambda own: {"priority": "urgent"}),
    ("POST", "/conversations/{conversation_id}/snooze"): Case(_in_a_day),
    ("POST", "/conversations/{conversation_id}/resolve"): Case(),
    ("POST", "/conversations/{conversation_id}/reopen"): Case(),
    ("GET", "/conversations/{conversation_id}/surveys"): Case(),
    ("DELETE", "/tokens/{token_id}"): Case(),
    ("POST", "/jobs/{job_id}/retry"): Case(admin_only=True),
    ("GET", "/messages/{message_id}/attachments/{index}"): Case(),
    ("GET", "/knowledge/articles/{article_id}"): Case(),
    ("PATCH", "/knowledge/articles/{article_id}"): Case(
        lambda own: {"title": "Renamed", "body": "# Renamed\n\nNew text."}, admin_only=True
    ),
    ("DELETE", "/knowledge/articles/{article_id}"): Case(admin_only=True),
    ("PATCH", "/canned_responses/{canned_id}"): Case(
        lambda own: {"title": "Renamed"}, admin_only=True
    ),
    ("DELETE", "/canned_responses/{canned_id}"): Case(admin_only=True),
    ("GET", "/webhooks/{webhook_id}"): Case(admin_only=True),
    ("PATCH", "/webhooks/{webhook_id}"): Case(
        lambda own: {"description": "Renamed", "event_types": ["message.created"]},
        admin_only=True,
    ),
    ("GET", "/webhooks/{webhook_id}/deliveries"): Case(admin_only=True),
    ("POST", "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): Case(admin_only=True),
    ("POST", "/webhooks/{webhook_id}/rotate_secret"): Case(admin_only=True),
    ("POST", "/webhooks/{webhook_id}/test"): Case(admin_only=True),
    ("DELETE", "/webhooks/{webhook_id}"): Case(admin_only=True),
}


async def test_the_matrix_covers_every_route_with_an_id(harness: Harness) -> None:
    routes = await id_routes(harness)
    missing = sorted(routes - set(ID_ROUTES))
    stale = sorted(set(ID_ROUTES) - routes)
    assert not missing, f"routes with an id but no tenancy case in ID_ROUTES: {missing}"
    assert not stale, f"ID_ROUTES names routes the app no longer has: {stale}"


async def test_every_id_route_works_with_the_callers_own_ids(harness: Harness) -> None:
    """The positive control: each body is valid, so a 404 below means the id, nothing else."""
    own, _ = await two_tenants(harness)
    for (method, template), case in ID_ROUTES.items():
        response = await call(own.admin, method, template.format(**own.ids), case.body_for(own))
        assert response.is_success, (method, template, response.status_code, response.text)


async def _matrix_failures(harness: Harness, caller: Api, own: Tenant, other: Tenant) -> list[str]:
    failures: list[str] = []
    for (method, template), case in ID_ROUTES.items():
        path = template.format(**other.ids)
        expected = 403 if case.admin_only and caller is own.agent else 404
        before = await snapshot(harness)
        response = await call(caller, method, path, case.body_for(own))
        after = await snapshot(harness)
        if response.status_code != expected:
            failures.append(f"{method} {path}: {response.status_code} {response.text}")
            continue
        code = error_of(response)["code"]
        if code != {403: "forbidden", 404: "not_found"}[expected]:
            failures.append(f"{method} {path}: error code {code}")
        if changed := changed_tables(before, after):
            failures.append(f"{method} {path}: changed {changed}")
    return failures


async def test_other_workspace_ids_are_not_found_for_an_admin(harness: Harness) -> None:
    own, other = await two_tenants(harness)
    failures = await _matrix_failures(harness, own.admin, own, other)
    assert not failures, "\n".join(failures)


async def test_other_workspace_ids_are_not_found_for_an_agent(harness: Harness) -> None:
    """Admin-only routes answer 403 first, whatever the id, so they reveal nothing either."""
    own, other = await two_tenants(harness)
    failures = await _matrix_failures(harness, own.agent, own, other)
    assert not failures, "\n".join(failures)


# -- lists ------------------------------------------------------------------------------


async def _ids_in_db(harness: Harness, model: Any, workspace_id: int, *conditions: Any) -> set[int]:
    async with harness.db.read_session() as session:
        rows = await session.scalars(
            select(model.id).where(model.workspace_id == workspace_id, *conditions)
        )
        return set(rows.all())


async def test_lists_hold_exactly_the_callers_workspace(harness: Harness) -> None:
    own, other = await two_tenants(harness)
    workspace_id = own.admin.workspace_id
    expected = {
        "/agents": await _ids_in_db(harness, Agent, workspace_id),
        "/teams": await _ids_in_db(harness, Team, workspace_id),
        "/inboxes": await _ids_in_db(harness, Inbox, workspace_id),
        "/contacts?limit=200": await _ids_in_db(
            harness, Contact, workspace_id, Contact.merged_into_id.is_(None)
        ),
        "/conversations?limit=100": await _ids_in_db(
            harness, Conversation, workspace_id, Conversation.merged_into_id.is_(None)
        ),
        "/events?limit=1000": await _ids_in_db(harness, Event, workspace_id),
        "/jobs?limit=500": await _ids_in_db(harness, Job, workspace_id),
        "/knowledge/articles": await _ids_in_db(harness, Article, workspace_id),
    }
    for path, ids in expected.items():
        assert ids, f"{path}: the seed left workspace A without rows to list"
        for caller in (own.admin, own.agent):
            if path.startswith("/jobs") and caller is own.agent:
                continue  # admin only; see test_auth
            body = await caller.ok("GET", path)
            items = body["items"] if isinstance(body, dict) else body
            assert {item["id"] for item in items} == ids, path
    other_members = {other.ids["agent_id"], other.admin.agent_id}
    for team in await own.admin.ok("GET", "/teams"):
        assert not other_members & set(team["member_ids"])


async def test_filters_naming_other_workspace_ids_find_nothing(harness: Harness) -> None:
    own, other = await two_tenants(harness)
    mine = own.ids["conversation_id"]
    for name, param in (("team", "team_id"), ("contact", "contact_id"), ("inbox", "inbox_id")):
        found = await own.admin.ok("GET", "/conversations", params={name: own.ids[param]})
        assert [c["id"] for c in found["items"]] == [mine], name
        found = await own.admin.ok("GET", "/conversations", params={name: other.ids[param]})
        assert found["items"] == [], name
    counts = await own.admin.ok(
        "GET", "/conversations/counts", params={"inbox": other.ids["inbox_id"]}
    )
    assert counts["all"] == 0
    for params in ({"assignee": str(other.admin.agent_id)}, {"q": "B says"}, {"q": "B answers"}):
        found = await own.admin.ok("GET", "/conversations", params=params)
        assert found["items"] == [], params
    events = await own.admin.ok(
        "GET", "/events", params={"conversation": other.ids["conversation_id"]}
    )
    assert events["items"] == []
    contacts = await own.admin.ok("GET", "/contacts", params={"q": "B Second"})
    assert contacts["items"] == []


async def test_the_same_customer_is_a_separate_contact_in_each_workspace(harness: Harness) -> None:
    own, other = await two_tenants(harness)
    assert own.ids["contact_id"] != other.ids["contact_id"]
    found = await own.admin.ok("GET", "/contacts", params={"q": SHARED_PHONE.lstrip("+")})
    assert [c["id"] for c in found["items"]] == [own.ids["contact_id"]]
    again = await inbound(
        own.admin,
        own.ids["inbox_id"],
        SHARED_PHONE.lstrip("+"),
        "written again",
        external_id="wamid.same-in-both-2",
    )
    assert again["contact_id"] == own.ids["contact_id"]
    assert again["conversation_id"] == own.ids["conversation_id"]


# -- bodies naming another workspace's ids ---------------------------------------------


def _references(own: Tenant, other: Tenant) -> list[tuple[str, str, dict[str, Any], int]]:
    """(method, path on A's own resource, body naming B's id, the refusal expected)."""
    conversation = f"/conversations/{own.ids['conversation_id']}"
    return [
        ("POST", f"{conversation}/reply", {"text": "hi", "inbox_id": other.ids["inbox_id"]}, 404),
        ("POST", f"{conversation}/assign", {"assignee_id": other.ids["agent_id"]}, 404),
        ("POST", f"{conversation}/transfer", {"team_id": other.ids["team_id"]}, 404),
        ("POST", f"{conversation}/handoff", {"reason": "x", "team_id": other.ids["team_id"]}, 404),
        (
            "POST",
            f"{conversation}/notes",
            {"text": "ping", "mentions": [other.ids["agent_id"]]},
            404,
        ),
        (
            "POST",
            f"/contacts/{own.ids['contact_id']}/merge",
            {"source_id": other.ids["contact_id"]},
            404,
        ),
        ("POST", "/teams", {"name": "Poachers", "member_ids": [other.ids["agent_id"]]}, 400),
        ("PATCH", f"/teams/{own.ids['team_id']}", {"member_ids": [other.ids["agent_id"]]}, 400),
    ]


async def test_bodies_naming_other_workspace_ids_are_refused(harness: Harness) -> None:
    own, other = await two_tenants(harness)
    for method, path, body, status in _references(own, other):
        before = await snapshot(harness)
        response = await own.admin.request(method, path, json=body)
        assert response.status_code == status, (method, path, body, response.text)
        expected_code = "not_found" if status == 404 else "invalid_input"
        assert error_of(response)["code"] == expected_code, (method, path)
        assert changed_tables(before, await snapshot(harness)) == [], (method, path, body)
