"""Schemathesis against our own OpenAPI description, signed in as an admin, on a live server.

Every operation gets a few generated requests (valid and not): none may answer 5xx, and
answers must match the documented response schemas. Afterwards the list endpoints must
still read back what the run stored: no garbage was written.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from onethread.agents.actions import do_create_agent, do_create_token
from onethread.agents.models import Role
from onethread.db.database import Database
from onethread.settings import Settings
from tests.channels.widget_server import live_server
from tests.factories import Api

EXAMPLES_PER_OPERATION = 6
CHECKS = [not_a_server_error, response_schema_conformance]
# Not fuzzed: calls that would sign the fuzzing admin out halfway through the run, and
# the readiness probe, whose 503 while no worker has checked in is its documented answer.
SKIPPED = {
    "POST /api/v1/auth/logout",
    "DELETE /api/v1/tokens/{token_id}",
    "GET /readyz",
}
SELF_AFFECTING = {"PATCH /api/v1/agents/{agent_id}", "PATCH /api/v1/auth/me"}
LIST_ENDPOINTS = [
    "/agents",
    "/inboxes",
    "/contacts",
    "/conversations",
    "/canned_responses",
    "/teams",
    "/jobs",
    "/webhooks",
    "/knowledge/articles",
    "/playbook",
    "/tokens",
]


def fuzz_operation(
    operation: Any, base_url: str, headers: dict[str, str], statuses: dict[int, int]
) -> str | None:
    """Run the operation's cases, valid and invalid; the first failure, shortened, or ``None``."""
    session = requests.Session()

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(GenerationMode.POSITIVE)
        | operation.as_strategy(GenerationMode.NEGATIVE),
        data=st.data(),
    )
    def run(case: Any, data: st.DataObject) -> None:
        for name in list(case.path_parameters or {}):
            if name.endswith("_id"):  # often a row that exists, so views go past the lookup
                case.path_parameters[name] = data.draw(
                    st.sampled_from([case.path_parameters[name], 1, 2])
                )
        response = case.call(base_url=base_url, headers=headers, session=session, timeout=20)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Exception as failure:  # report every operation's failure, not only the first
        return f"{type(failure).__name__}: {str(failure)[:1500]}"
    finally:
        session.close()
    return None


async def seed(client: httpx.AsyncClient, admin: Api) -> None:
    """A row or two of each kind, so that generated ids 1 and 2 often exist."""
    chat = await admin.ok("POST", "/inboxes", 201, json={"channel": "webchat", "name": "Site"})
    for n in (1, 2):
        await admin.ok("POST", "/contacts", 201, json={"name": f"Ada {n}"})
        await admin.ok("POST", "/teams", 201, json={"name": f"Team {n}"})
        canned = {"shortcut": f"hi{n}", "title": "Hi", "text": "Hello!"}
        await admin.ok("POST", "/canned_responses", 201, json=canned)
        await admin.ok("POST", "/knowledge/articles", 201, json={"body": f"# Plans {n}\n\nText."})
        widget = f"/api/v1/widget/{chat['id']}"
        token = (await client.post(f"{widget}/session", json={})).json()["visitor_token"]
        sent = await client.post(
            f"{widget}/messages",
            json={"text": "hello"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert sent.status_code == 201, sent.text


async def fresh_admin(settings: Settings, workspace_id: int, client: httpx.AsyncClient) -> Api:
    """A new admin of the workspace, written to the database (the run may have locked out
    the first one, by changing its password or role)."""
    db = Database(settings.resolved_database_url)
    try:
        async with db.session() as session:
            agent = await do_create_agent(
                session, workspace_id, email="reader@example.com", name="Reader", role=Role.ADMIN
            )
            _, token = await do_create_token(session, agent, name="reader")
    finally:
        await db.dispose()
    return Api(client, token, workspace_id, agent.id, "reader@example.com")


async def test_every_operation_survives_generated_requests(settings: Settings) -> None:
    async with live_server(settings) as server:
        first = admin = await server.workspace("Fuzzed", "fuzz-admin@example.com")
        await seed(server.client, admin)
        raw = (await server.client.get("/api/v1/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(raw)
        headers = {"Authorization": f"Bearer {admin.token}"}
        failures: dict[str, str] = {}
        statuses: dict[int, int] = {}
        tried = 0
        operations = [result.ok() for result in schema.get_all_operations()]
        # Those that may sign the caller out go last, so that the rest run on seeded rows.
        operations.sort(key=lambda operation: operation.label in SELF_AFFECTING)
        for operation in operations:
            if operation.label in SKIPPED:
                continue
            tried += 1
            failure = await asyncio.to_thread(
                fuzz_operation, operation, server.url, headers, statuses
            )
            if failure:
                failures[operation.label] = failure
            if (await admin.get("/auth/me")).status_code != 200:
                # It deactivated or demoted its own caller (allowed): go on as a new admin.
                admin = await server.workspace(f"Fuzzed {tried}", f"fuzz{tried}@example.com")
                headers = {"Authorization": f"Bearer {admin.token}"}
        assert tried > 50
        assert any(200 <= status < 300 for status in statuses), statuses
        assert any(400 <= status < 500 for status in statuses), statuses
        assert not failures, "\n\n".join(f"{label}\n{why}" for label, why in failures.items())

        # Whatever the run stored in the seeded workspace reads back through its schemas.
        reader = await fresh_admin(settings, first.workspace_id, server.client)
        for path in LIST_ENDPOINTS:
            response = await reader.get(path)
            assert response.status_code == 200, (path, response.text)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_attempts": 10_000})
