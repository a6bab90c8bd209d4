"""Who may call what: tokens and the session cookie, the admin role, sign-in throttling,
write-only secrets, and bad input that must get a 4xx, never a 500.

Routes come from the app's OpenAPI document, so a new route is swept without an edit here.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from onethread.agents.models import Agent, ApiToken
from onethread.db.types import utcnow
from onethread.inboxes.models import Inbox
from onethread.inboxes.service import full_config
from onethread.integrations.models import WebhookDelivery
from onethread.outbox.models import Job, JobStatus
from tests.conftest import Harness
from tests.factories import (
    PASSWORD,
    SANDBOX_CONFIGS,
    Api,
    agent,
    inbound,
    inbox,
    snapshot,
    workspace,
)

API_PREFIX = "/api/v1"
LOGIN = ("POST", f"{API_PREFIX}/auth/login")
# The web chat widget's routes take a visitor token, not an agent's (tests/channels).
VISITOR_ROUTES = f"{API_PREFIX}/widget/"
SECRET_NAMES = {"access_token", "app_secret", "verify_token", "auth_token", "identity_secret"}
OUT_OF_RANGE_ID = 2**63  # one past the largest BIGINT (and SQLite INTEGER)


# -- helpers ----------------------------------------------------------------------------


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The ``error`` object of a failure, after checking its status and the one error shape."""
    assert response.status_code == status, (
        response.request.method,
        response.request.url,
        response.status_code,
        response.text,
    )
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}, body
    assert error["code"] == code, body
    assert isinstance(error["message"], str), body
    assert error["message"], body
    return error


@asynccontextmanager
async def client_at(
    harness: Harness,
    address: str,
    *,
    base_url: str = "http://testserver",
    raise_app_exceptions: bool = True,
) -> AsyncIterator[httpx.AsyncClient]:
    """Another client of the same running app: its own address, cookie jar and scheme."""
    other = httpx.ASGITransport(
        app=harness.app, client=(address, 5000), raise_app_exceptions=raise_app_exceptions
    )
    async with httpx.AsyncClient(transport=other, base_url=base_url) as client:
        yield client


async def operations(harness: Harness) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every /api/v1 route in the OpenAPI document."""
    document = (await harness.client.get(f"{API_PREFIX}/openapi.json")).json()
    found = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        if path.startswith(API_PREFIX)
        for method, operation in item.items()
    ]
    assert LOGIN in {(m, p) for m, p, _ in found}
    return found


@dataclass
class Workspace:
    """An admin, a plain agent and one resource of every kind; ``ids`` by path parameter."""

    admin: Api
    agent: Api
    ids: dict[str, int]

    def path(self, template: str) -> str:
        return template.format(**self.ids)


async def seed(harness: Harness) -> Workspace:
    admin = await workspace(harness)
    plain = await agent(admin)
    team = await admin.ok("POST", "/teams", 201, json={"name": "Support"})
    whatsapp = await inbox(admin, "whatsapp")
    first = await inbound(admin, whatsapp["id"], "15550001111", "help")
    spare = await admin.ok("POST", "/tokens", 201, json={"name": "spare"})
    article = await admin.ok(
        "POST", "/knowledge/articles", 201, json={"body": "# Refunds\n\nWithin 14 days."}
    )
    canned = await admin.ok(
        "POST", "/canned_responses", 201, json={"shortcut": "thanks", "title": "T", "text": "Ty"}
    )
    async with harness.db.session() as session:
        job_id = await session.scalar(select(Job.id).where(Job.workspace_id == admin.workspace_id))
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=JobStatus.DEAD.value, last_error="provider down", finished_at=utcnow())
        )
    assert job_id is not None
    webhook = await admin.ok(
        "POST",
        "/webhooks",
        201,
        json={"url": "https://hooks.example.com/seed", "event_types": ["contact.updated"]},
    )
    ping = await admin.ok("POST", f"/webhooks/{webhook['id']}/test", 202)
    async with harness.db.session() as session:  # a failed delivery, which admins redeliver
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == ping["id"]).values(status="failed")
        )
    return Workspace(
        admin,
        plain,
        {
            "agent_id": plain.agent_id,
            "team_id": team["id"],
            "inbox_id": whatsapp["id"],
            "contact_id": first["contact_id"],
            "conversation_id": first["conversation_id"],
            "token_id": spare["id"],
            "job_id": job_id,
            "message_id": first["message"]["id"],
            "index": 0,
            "article_id": article["id"],
            "canned_id": canned["id"],
            "webhook_id": webhook["id"],
            "delivery_id": ping["id"],
        },
    )


async def login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: Any
) -> httpx.Response:
    return await client.post(
        f"{API_PREFIX}/auth/login", json={"email": email, "password": password, **extra}
    )


# -- 401: no valid credential -----------------------------------------------------------


async def _credential(harness: Harness, ws: Workspace, kind: str) -> dict[str, str]:
    """Headers carrying one kind of credential that must not authenticate."""
    if kind == "none":
        return {}
    if kind == "garbage":
        return {"Authorization": "Bearer ot_not-a-token"}
    if kind == "garbage cookie":
        return {"Cookie": "onethread_session=ot_not-a-token"}
    token = await ws.agent.ok("POST", "/tokens", 201, json={"name": kind, "expires_in_days": 1})
    if kind == "revoked":
        await ws.agent.ok("DELETE", f"/tokens/{token['id']}", 204)
    elif kind == "expired":
        async with harness.db.session() as session:
            await session.execute(
                update(ApiToken)
                .where(ApiToken.id == token["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
    elif kind == "deactivated agent":
        await ws.admin.ok("PATCH", f"/agents/{ws.agent.agent_id}", json={"active": False})
    return {"Authorization": f"Bearer {token['token']}"}


@pytest.mark.parametrize(
    "kind", ["none", "garbage", "garbage cookie", "revoked", "expired", "deactivated agent"]
)
async def test_every_route_but_login_needs_a_valid_credential(harness: Harness, kind: str) -> None:
    ws = await seed(harness)
    headers = await _credential(harness, ws, kind)
    before = await snapshot(harness)
    for method, path, _ in await operations(harness):
        if (method, path) == LOGIN or path.startswith(VISITOR_ROUTES):
            continue
        response = await harness.client.request(method, ws.path(path), headers=headers)
        error_of(response, 401, "not_authenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer", (method, path)
    assert await snapshot(harness) == before


# -- 403: admin-only routes -------------------------------------------------------------

ADMIN_ONLY: dict[tuple[str, str], dict[str, Any] | None] = {
    ("POST", "/agents"): {"email": "new@example.com", "name": "New", "password": PASSWORD},
    ("PATCH", "/agents/{agent_id}"): {"role": "admin"},  # the agent promoting itself
    ("POST", "/teams"): {"name": "Escalations", "domain": "service"},
    ("PATCH", "/teams/{team_id}"): {"name": "Renamed"},
    ("POST", "/inboxes"): {
        "channel": "webchat",
        "name": "Site chat",
        "config": SANDBOX_CONFIGS["webchat"],
    },
    ("PATCH", "/inboxes/{inbox_id}"): {"ai_mode": "off"},
    ("PATCH", "/workspace"): {"name": "Taken over"},
    ("GET", "/jobs"): None,
    ("POST", "/jobs/{job_id}/retry"): None,
    ("PUT", "/playbook"): {},
    ("PUT", "/playbook/yaml"): None,
    ("PUT", "/playbook/secrets"): {"secrets": {}},
    ("POST", "/knowledge/articles"): {"body": "# Plans\n\nStarter, Team, Business."},
    ("PATCH", "/knowledge/articles/{article_id}"): {"title": "Refund policy"},
    ("POST", "/knowledge/upload"): None,  # files: see MULTIPART
    ("POST", "/knowledge/reindex"): None,
    ("DELETE", "/knowledge/articles/{article_id}"): None,
    ("POST", "/canned_responses"): {"shortcut": "hello", "title": "Hello", "text": "Hi there!"},
    ("PATCH", "/canned_responses/{canned_id}"): {"title": "Greeting"},
    ("DELETE", "/canned_responses/{canned_id}"): None,
    ("POST", "/contacts/import"): None,  # files: see MULTIPART
    ("GET", "/webhooks"): None,
    ("POST", "/webhooks"): {
        "url": "https://hooks.example.com/x",
        "event_types": ["message.created"],
    },
    ("GET", "/webhooks/{webhook_id}"): None,
    ("PATCH", "/webhooks/{webhook_id}"): {"description": "Renamed"},
    ("GET", "/webhooks/{webhook_id}/deliveries"): None,
    ("POST", "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): None,
    ("POST", "/webhooks/{webhook_id}/rotate_secret"): None,
    ("POST", "/webhooks/{webhook_id}/test"): None,
    ("DELETE", "/webhooks/{webhook_id}"): None,
}

# Routes that take files (multipart/form-data) instead of a JSON body, and valid files.
MULTIPART: dict[tuple[str, str], list[tuple[str, tuple[str, bytes]]]] = {
    ("POST", "/knowledge/upload"): [("files", ("faq.md", b"# FAQ\n\nAsk us anything."))],
    ("POST", "/contacts/import"): [
        ("file", ("contacts.csv", b"email,plan\nnew@example.com,Team\n"))
    ],
}


def _body(method: str, template: str, body: dict[str, Any] | None) -> dict[str, Any]:
    files = MULTIPART.get((method, template.removeprefix(API_PREFIX)))
    return {"files": files} if files else {"json": body}


async def test_admin_only_routes_refuse_a_plain_agent_and_change_nothing(harness: Harness) -> None:
    ws = await seed(harness)
    for (method, template), body in ADMIN_ONLY.items():
        before = await snapshot(harness)
        response = await ws.agent.request(method, ws.path(template), json=body)
        error_of(response, 403, "forbidden")
        assert await snapshot(harness) == before, (method, template)
    for (method, template), body in ADMIN_ONLY.items():  # the same calls are valid for an admin
        response = await ws.admin.request(
            method, ws.path(template), **_body(method, template, body)
        )
        assert response.is_success, (method, template, response.text)


async def test_only_the_admin_only_routes_refuse_a_plain_agent(harness: Harness) -> None:
    """Every route called bodiless by a plain agent: exactly ADMIN_ONLY answers 403."""
    ws = await seed(harness)
    refused = set()
    for method, path, _ in await operations(harness):
        if (method, path) in {LOGIN, ("POST", f"{API_PREFIX}/auth/logout")}:
            continue
        response = await ws.agent.request(method, ws.path(path).removeprefix(API_PREFIX))
        if response.status_code == 403:
            refused.add((method, path.removeprefix(API_PREFIX)))
    assert refused == set(ADMIN_ONLY)


# -- sign-in, the session cookie, sign-out ----------------------------------------------


async def test_login_returns_a_token_and_sets_a_cookie_that_authenticates(harness: Harness) -> None:
    admin = await workspace(harness)
    async with client_at(harness, "198.51.100.20", base_url="https://testserver") as browser:
        response = await login(browser, admin.email)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["token_type"], body["agent"]["id"]) == ("bearer", admin.agent_id)
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"onethread_session={body['token']};")
        assert {"httponly", "secure", "samesite=lax"} <= {
            part.strip().lower() for part in cookie.split(";")
        }

        me = await browser.get(f"{API_PREFIX}/auth/me")  # the cookie alone
        assert me.status_code == 200, me.text
        assert me.json()["id"] == admin.agent_id
    bearer = await harness.client.get(
        f"{API_PREFIX}/auth/me", headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert bearer.json()["id"] == admin.agent_id


async def test_logout_revokes_the_session(harness: Harness) -> None:
    admin = await workspace(harness)
    async with client_at(harness, "198.51.100.21", base_url="https://testserver") as browser:
        token = (await login(browser, admin.email)).json()["token"]
        response = await browser.post(f"{API_PREFIX}/auth/logout")
        assert response.status_code == 204, response.text
        assert "onethread_session" not in browser.cookies
        error_of(await browser.get(f"{API_PREFIX}/auth/me"), 401, "not_authenticated")
    for headers in ({"Authorization": f"Bearer {token}"}, {"Cookie": f"onethread_session={token}"}):
        response = await harness.client.get(f"{API_PREFIX}/auth/me", headers=headers)
        error_of(response, 401, "not_authenticated")
    assert (await admin.get("/auth/me")).status_code == 200  # other tokens live on


async def test_a_wrong_password_is_refused_like_an_unknown_email(harness: Harness) -> None:
    admin = await workspace(harness)
    wrong = await login(harness.client, admin.email, "not the password")
    unknown = await login(harness.client, "nobody@example.com")
    for response in (wrong, unknown):
        error_of(response, 401, "not_authenticated")
        assert "set-cookie" not in response.headers
    assert wrong.json() == unknown.json()


async def test_one_email_in_two_workspaces_signs_in_with_workspace_id(harness: Harness) -> None:
    first = await workspace(harness)
    second = await workspace(harness)
    twin = await first.ok(
        "POST", "/agents", 201, json={"email": second.email, "name": "Twin", "password": PASSWORD}
    )
    error = error_of(await login(harness.client, second.email), 400, "invalid_input")
    assert sorted(error["details"]["workspace_ids"]) == sorted(
        [first.workspace_id, second.workspace_id]
    )
    signed_in = await login(harness.client, second.email, workspace_id=first.workspace_id)
    assert signed_in.json()["agent"]["id"] == twin["id"]


# -- sign-in throttling (the test settings allow 5 failures a minute) -------------------


def _retry_after(response: httpx.Response) -> int:
    error = error_of(response, 429, "rate_limited")
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 60
    assert error["details"]["retry_after"] == seconds
    return seconds


async def test_failures_lock_the_account_from_every_address(harness: Harness) -> None:
    admin = await workspace(harness)
    async with client_at(harness, "198.51.100.30") as attacker:
        for _ in range(5):
            error_of(await login(attacker, admin.email, "guess"), 401, "not_authenticated")
        _retry_after(await login(attacker, admin.email))  # even the right password waits
    async with client_at(harness, "198.51.100.31") as elsewhere:
        _retry_after(await login(elsewhere, admin.email))


async def test_failures_across_accounts_lock_the_address(harness: Harness) -> None:
    admin = await workspace(harness)
    colleague = await agent(admin)
    sprayed = [colleague.email, *(f"guess{n}@example.com" for n in range(4))]
    async with client_at(harness, "198.51.100.40") as attacker:
        for email in sprayed:
            error_of(await login(attacker, email, "guess"), 401, "not_authenticated")
        _retry_after(await login(attacker, admin.email))  # an account it never tried
    async with client_at(harness, "198.51.100.41") as elsewhere:
        assert (await login(elsewhere, admin.email)).status_code == 200


async def test_another_accounts_failures_elsewhere_do_not_block_a_sign_in(harness: Harness) -> None:
    admin = await workspace(harness)
    other = await agent(admin)
    async with client_at(harness, "198.51.100.50") as attacker:
        for _ in range(6):
            await login(attacker, other.email, "guess")
    async with client_at(harness, "198.51.100.51") as colleague:
        response = await login(colleague, admin.email)
        assert response.status_code == 200, response.text


# -- nothing secret comes back ----------------------------------------------------------


def _unique_secrets(channel: str) -> dict[str, str]:
    return {
        name: f"{channel}-{name}-Zq81" for name in SANDBOX_CONFIGS[channel] if name in SECRET_NAMES
    }


async def test_inbox_secrets_are_write_only(harness: Harness) -> None:
    admin = await workspace(harness)
    seen: list[str] = []
    every_secret: list[str] = []
    for channel in SANDBOX_CONFIGS:
        secrets = _unique_secrets(channel)
        assert secrets, channel
        every_secret += secrets.values()
        created = await inbox(admin, channel, **secrets)
        assert created["secrets_set"] == sorted(secrets)
        assert not SECRET_NAMES & set(created["config"])
        rotated = {name: f"{value}-rotated" for name, value in secrets.items()}
        every_secret += rotated.values()
        patched = await admin.patch(
            f"/inboxes/{created['id']}", json={"name": "Renamed", "config": rotated}
        )
        assert patched.json()["secrets_set"] == sorted(secrets), patched.text
        fetched = await admin.get(f"/inboxes/{created['id']}")
        seen += [str(created), patched.text, fetched.text]
    seen += [(await admin.get("/inboxes")).text, (await admin.get("/events?limit=1000")).text]
    async with harness.db.read_session() as session:
        seen += [
            str((row.config, row.secrets_encrypted)) for row in await session.scalars(select(Inbox))
        ]  # encrypted at rest, too
    leaked = {secret for secret in every_secret if any(secret in text for text in seen)}
    assert not leaked


async def test_a_refused_inbox_config_does_not_echo_its_secrets(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    response = await admin.patch(
        f"/inboxes/{whatsapp['id']}",
        json={"config": {"access_token": "EAAleaked-Zq81", "phone_number_id": ""}},
    )
    error_of(response, 400, "invalid_input")
    assert "EAAleaked-Zq81" not in response.text
    response = await admin.post(
        "/inboxes",
        json={
            "channel": "whatsapp",
            "name": "x",
            "config": {"access_token": "EAAleaked-Zq81", "unknown": 1},
        },
    )
    error_of(response, 400, "invalid_input")
    assert "EAAleaked-Zq81" not in response.text


async def _decrypted(harness: Harness, inbox_id: int) -> dict[str, Any]:
    async with harness.db.read_session() as session:
        row = await session.get(Inbox, inbox_id)
        assert row is not None
        config = full_config(row, harness.app_context.secrets)
    return {
        name: getattr(config, name).get_secret_value()
        for name in config.secret_fields()
        if getattr(config, name) is not None
    } | config.public_dict()


async def test_patching_an_inbox_without_a_secret_keeps_it(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    path = f"/inboxes/{whatsapp['id']}"

    patched = await admin.ok("PATCH", path, json={"config": {"phone_number_id": "999"}})
    assert patched["secrets_set"] == ["access_token", "app_secret", "verify_token"]
    kept = await _decrypted(harness, whatsapp["id"])
    assert (
        kept["phone_number_id"],
        kept["access_token"],
        kept["app_secret"],
        kept["verify_token"],
    ) == ("999", "EAAtest", "app-secret", "verify-me")

    await admin.ok("PATCH", path, json={"config": {"access_token": "EAArotated"}})
    rotated = await _decrypted(harness, whatsapp["id"])
    assert (rotated["access_token"], rotated["app_secret"]) == ("EAArotated", "app-secret")

    cleared = await admin.ok("PATCH", path, json={"config": {"verify_token": None}})
    assert cleared["secrets_set"] == ["access_token", "app_secret"]


async def test_tokens_are_shown_once_and_never_listed(harness: Harness) -> None:
    admin = await workspace(harness)
    session_token = (await login(harness.client, admin.email)).json()["token"]
    created = await admin.ok("POST", "/tokens", 201, json={"name": "ci"})
    listed = await admin.get("/tokens")
    assert {t["id"] for t in listed.json()} >= {created["id"]}
    assert all("token" not in t and "token_hash" not in t for t in listed.json())
    for token in (admin.token, session_token, created["token"]):
        assert token not in listed.text
        assert hashlib.sha256(token.encode()).hexdigest() not in listed.text


async def test_passwords_and_their_hashes_never_leave_the_server(harness: Harness) -> None:
    admin = await workspace(harness)
    created = await admin.ok(
        "POST",
        "/agents",
        201,
        json={"email": "pat@example.com", "name": "Pat", "password": "first password"},
    )
    agent_path = f"/agents/{created['id']}"
    texts = [
        str(created),
        (await admin.patch(agent_path, json={"password": "second password"})).text,
        (await admin.get(agent_path)).text,
        (await admin.get("/agents")).text,
        (await admin.get("/auth/me")).text,
        (await admin.patch("/auth/me", json={"password": "third password"})).text,
        (await login(harness.client, admin.email, "third password")).text,
        (await admin.get("/events?limit=1000")).text,
    ]
    async with harness.db.read_session() as session:
        hashes = [h for h in await session.scalars(select(Agent.password_hash)) if h]
    assert len(hashes) == 2
    for text in texts:
        assert "$argon2" not in text
        assert not [h for h in hashes if h in text]
        for password in ("first password", "second password", "third password"):
            assert password not in text


# -- bad input: a clear 400, never a 500 ------------------------------------------------


async def _body_operations(harness: Harness) -> list[tuple[str, str]]:
    return [
        (method, path)
        for method, path, operation in await operations(harness)
        if "requestBody" in operation
    ]


BAD_BODIES: dict[str, dict[str, Any]] = {
    "malformed JSON": {
        "content": b'{"text": "unterminated',
        "headers": {"Content-Type": "application/json"},
    },
    "a JSON array": {"json": [{"text": "hi"}]},
    "an unknown field": {"json": {"unknown_field": 1}},
}


@pytest.mark.parametrize("kind", list(BAD_BODIES))
async def test_bad_bodies_get_a_400_on_every_route(harness: Harness, kind: str) -> None:
    ws = await seed(harness)
    before = await snapshot(harness)
    failures = []
    async with client_at(harness, "198.51.100.60", raise_app_exceptions=False) as client:
        for method, path in await _body_operations(harness):
            request = BAD_BODIES[kind]
            headers = {"Authorization": f"Bearer {ws.admin.token}", **request.get("headers", {})}
            response = await client.request(
                method,
                ws.path(path),
                headers=headers,
                **{k: v for k, v in request.items() if k != "headers"},
            )
            if response.status_code != 400:
                failures.append(f"{method} {path}: {response.status_code} {response.text}")
                continue
            error = error_of(response, 400, "invalid_input")
            if (method, path.removeprefix(API_PREFIX)) in MULTIPART:
                continue  # a JSON body there is refused whole: its fields are not looked at
            if kind == "an unknown field" and not any(
                d["field"].endswith("unknown_field") for d in error["details"]
            ):
                failures.append(f"{method} {path}: does not name the field: {error}")
    assert not failures, "\n".join(failures)
    assert await snapshot(harness) == before


async def test_ids_beyond_the_database_range_get_a_400_on_every_route(harness: Harness) -> None:
    ws = await seed(harness)
    huge = dict.fromkeys(ws.ids, OUT_OF_RANGE_ID)
    failures = []
    async with client_at(harness, "198.51.100.61", raise_app_exceptions=False) as client:
        for method, path, _ in await operations(harness):
            if "{" not in path:
                continue
            response = await client.request(
                method, path.format(**huge), headers={"Authorization": f"Bearer {ws.admin.token}"}
            )
            if response.status_code != 400:
                failures.append(f"{method} {path}: {response.status_code} {response.text}")
                continue
            fields = [d["field"] for d in error_of(response, 400, "invalid_input")["details"]]
            if not any(field.startswith("path.") for field in fields):
                failures.append(f"{method} {path}: the path id is not named in {fields}")
    assert not failures, "\n".join(failures)


async def test_ids_beyond_the_database_range_in_queries_and_bodies_get_a_400(
    harness: Harness,
) -> None:
    ws = await seed(harness)
    conversation = ws.path("/conversations/{conversation_id}")
    calls: list[tuple[str, str, dict[str, Any]]] = [
        *[
            ("GET", f"/conversations?{name}={OUT_OF_RANGE_ID}", {})
            for name in ("team", "inbox", "contact", "assignee")
        ],
        ("GET", f"/conversations/counts?inbox={OUT_OF_RANGE_ID}", {}),
        ("GET", f"{conversation}/messages?after={OUT_OF_RANGE_ID}", {}),
        ("GET", f"/contacts?cursor={OUT_OF_RANGE_ID}", {}),
        ("GET", f"/events?after={OUT_OF_RANGE_ID}", {}),
        ("GET", f"/events?conversation={OUT_OF_RANGE_ID}", {}),
        ("POST", f"{conversation}/reply", {"text": "hi", "inbox_id": OUT_OF_RANGE_ID}),
        ("POST", f"{conversation}/notes", {"text": "hi", "mentions": [OUT_OF_RANGE_ID]}),
        ("POST", f"{conversation}/assign", {"assignee_id": OUT_OF_RANGE_ID}),
        ("POST", f"{conversation}/transfer", {"team_id": OUT_OF_RANGE_ID}),
        ("POST", f"{conversation}/handoff", {"reason": "x", "team_id": OUT_OF_RANGE_ID}),
        ("POST", ws.path("/contacts/{contact_id}/merge"), {"source_id": OUT_OF_RANGE_ID}),
        ("POST", "/teams", {"name": "T", "member_ids": [OUT_OF_RANGE_ID]}),
        ("PATCH", ws.path("/teams/{team_id}"), {"member_ids": [OUT_OF_RANGE_ID]}),
        (
            "POST",
            "/auth/login",
            {"email": ws.admin.email, "password": PASSWORD, "workspace_id": OUT_OF_RANGE_ID},
        ),
    ]
    failures = []
    async with client_at(harness, "198.51.100.62", raise_app_exceptions=False) as client:
        for method, path, body in calls:
            response = await client.request(
                method,
                API_PREFIX + path,
                json=body or None,
                headers={"Authorization": f"Bearer {ws.admin.token}"},
            )
            if response.status_code != 400:
                failures.append(f"{method} {path} {body}: {response.status_code} {response.text}")
            else:
                error_of(response, 400, "invalid_input")
    assert not failures, "\n".join(failures)


async def test_a_snooze_time_without_a_timezone_is_refused(harness: Harness) -> None:
    ws = await seed(harness)
    response = await ws.admin.post(
        ws.path("/conversations/{conversation_id}/snooze"), json={"until": "2099-01-01T09:00:00"}
    )
    error_of(response, 400, "invalid_input")
