"""The command line, run as a user runs it: a separate process per command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from onethread.agents.models import Team
from onethread.conversations.models import Message
from onethread.db.database import Database
from onethread.db.migrate import head_revision
from onethread.db.types import utcnow
from onethread.inboxes.models import ChannelKind, Inbox
from onethread.outbox.models import Job
from tests.conftest import BACKENDS, POSTGRES_URL, scratch_postgres_database


@pytest.fixture(params=BACKENDS)
async def cli_env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    env = {
        **os.environ,
        "ONETHREAD_DATA_DIR": str(tmp_path / "data"),
        "ONETHREAD_SECRET_KEY": "cli-test-key",
    }
    env.pop("ONETHREAD_DATABASE_URL", None)
    if request.param == "sqlite":
        yield env  # the embedded default: a SQLite file under the data directory
        return
    assert POSTGRES_URL is not None
    async with scratch_postgres_database(POSTGRES_URL) as url:
        yield {**env, "ONETHREAD_DATABASE_URL": url}


def onethread(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onethread", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def database_of(env: dict[str, str]) -> Database:
    url = (
        env.get("ONETHREAD_DATABASE_URL")
        or f"sqlite+aiosqlite:///{Path(env['ONETHREAD_DATA_DIR']).resolve() / 'onethread.db'}"
    )
    return Database(url)


async def test_init_creates_the_database_and_each_run_adds_a_workspace(
    cli_env: dict[str, str],
) -> None:
    first = onethread(
        cli_env,
        "init",
        "--workspace",
        "Acme",
        "--admin-email",
        "ops@acme.io",
        "--admin-password",
        "s3cret-pass",
        "--json",
    )
    assert first.returncode == 0, first.stderr
    second = onethread(
        cli_env,
        "init",
        "--workspace",
        "Globex",
        "--admin-email",
        "ops@acme.io",
        "--admin-password",
        "s3cret-pass",
        "--json",
    )
    assert second.returncode == 0, second.stderr
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    assert (one["workspace_name"], two["workspace_name"]) == ("Acme", "Globex")
    assert one["workspace_id"] != two["workspace_id"]
    assert one["token"].startswith("ot_")
    assert one["token"] != two["token"]
    current = onethread(cli_env, "db", "current")
    assert f"current: {head_revision()}" in current.stdout


def test_init_refuses_a_short_password_clearly(cli_env: dict[str, str]) -> None:
    result = onethread(
        cli_env,
        "init",
        "--workspace",
        "Acme",
        "--admin-email",
        "a@acme.io",
        "--admin-password",
        "short",
    )
    assert result.returncode == 2
    assert "at least 8 characters" in result.stderr


async def test_jobs_list_and_retry(cli_env: dict[str, str]) -> None:
    assert onethread(cli_env, "db", "upgrade").returncode == 0
    db = database_of(cli_env)
    try:
        async with db.session() as session:
            dead = Job(
                kind="delivery.send",
                payload={"message_id": 1},
                status="dead",
                attempts=8,
                max_attempts=8,
                run_at=utcnow(),
                last_error="HTTP 500",
                created_at=utcnow(),
            )
            done = Job(
                kind="assistant.turn",
                payload={},
                status="done",
                attempts=1,
                max_attempts=8,
                run_at=utcnow(),
                created_at=utcnow(),
            )
            session.add_all([dead, done])
        listed = json.loads(onethread(cli_env, "jobs", "list", "--status", "dead", "--json").stdout)
        assert [(j["id"], j["last_error"]) for j in listed] == [(dead.id, "HTTP 500")]
        retried = onethread(cli_env, "jobs", "retry", str(dead.id))
        assert retried.returncode == 0, retried.stderr
        refused = onethread(cli_env, "jobs", "retry", str(done.id))
        assert refused.returncode == 1
        assert "only dead jobs can be retried" in refused.stderr
        async with db.read_session() as session:
            job = await session.get(Job, dead.id)
            assert job is not None
            assert (job.status, job.attempts) == ("queued", 0)
    finally:
        await db.dispose()


async def test_demo_seeds_a_convincing_workspace(cli_env: dict[str, str]) -> None:
    result = onethread(cli_env, "demo", "--seed-only")
    assert result.returncode == 0, result.stderr
    assert "demo@onethread.dev" in result.stdout
    assert "onethread-demo" in result.stdout
    again = onethread(cli_env, "demo", "--seed-only")  # idempotent: reuses the workspace
    assert again.returncode == 0, again.stderr
    db = database_of(cli_env)
    try:
        async with db.read_session() as session:
            channels = set(await session.scalars(select(Inbox.channel)))
            teams = {(t.name, t.domain) for t in await session.scalars(select(Team))}
            texts = list(await session.scalars(select(Message.text)))
    finally:
        await db.dispose()
    assert channels == {kind.value for kind in ChannelKind}
    assert teams == {("Billing & Accounts", "service"), ("Technical Support", "support")}
    assert any("double-charged" in text and "export button is broken" in text for text in texts)


def test_python_dash_m_and_help(cli_env: dict[str, str]) -> None:
    result = onethread(cli_env, "--help")
    assert result.returncode == 0
    for command in ("serve", "worker", "db", "init", "jobs", "demo"):
        assert command in result.stdout
