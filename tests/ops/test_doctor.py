"""``onethread doctor`` against real parts: the database, Redis, loopback provider fakes."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from onethread.db.database import Database
from onethread.doctor.checks import check_settings, run_checks
from onethread.doctor.result import Finding, Status
from onethread.outbox.actions import beat
from onethread.settings import Settings
from tests.channels.conftest import TOKEN
from tests.conftest import Harness
from tests.factories import SANDBOX_CONFIGS, Api, inbox, workspace
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.loopback import LoopbackServer, RawRequest, Reply
from tests.fakes.twilio_api import FakeTwilioApi
from tests.processes import settings_env

REDIS_URL = os.environ.get("ONETHREAD_TEST_REDIS_URL", "redis://127.0.0.1:6379/8")


class HealthzServer(LoopbackServer):
    """What a public URL in front of onethread answers: 200 on /healthz."""

    thread_name = "fake-public-url"

    def answer(self, raw: RawRequest) -> Reply:
        if raw.path == "/healthz":
            return Reply.json(200, {"status": "ok"})
        return Reply.json(404, {"detail": "not found"})

    def scripted_error(self, status: int) -> Reply:
        return Reply.json(status, {"detail": "scripted"})

    def failure(self, exc: Exception) -> Reply:
        return Reply.json(500, {"detail": repr(exc)})


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens once the probe is closed


@pytest.fixture
def public() -> Iterator[HealthzServer]:
    with HealthzServer() as server:
        yield server


@pytest.fixture
def graph() -> Iterator[FakeGraphApi]:
    with FakeGraphApi(access_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def twilio() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi() as fake:
        yield fake


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {finding.check: finding for finding in findings}


async def connect_inboxes(admin: Api, graph: FakeGraphApi, twilio: FakeTwilioApi) -> None:
    meta: dict[str, Any] = {"sandbox": False, "app_secret": "s", "api_base_url": graph.base_url}
    await inbox(admin, "whatsapp", access_token=TOKEN, **meta)
    await inbox(admin, "messenger", page_id="1000", access_token="EAA-revoked", **meta)
    twilio_config: dict[str, Any] = {
        "sandbox": False,
        "account_sid": twilio.account_sid,
        "api_base_url": twilio.base_url,
    }
    await inbox(admin, "twilio_sms", auth_token=twilio.auth_token, **twilio_config)
    await inbox(admin, "twilio_whatsapp", auth_token="not-the-token", **twilio_config)
    await inbox(admin, "whatsapp")  # a sandbox: nothing to ask the provider


async def test_each_inbox_credential_and_each_unreachable_part_is_named(
    harness: Harness, graph: FakeGraphApi, twilio: FakeTwilioApi
) -> None:
    admin = await workspace(harness)
    await connect_inboxes(admin, graph, twilio)
    await beat(harness.db, "doctor-test-worker")
    down_redis = f"redis://127.0.0.1:{closed_port()}/0"
    nowhere = f"http://127.0.0.1:{closed_port()}"
    settings = harness.app_context.settings.model_copy(
        update={"redis_url": down_redis, "public_url": nowhere}
    )

    found = by_check(await run_checks(settings, wait_seconds=2))

    assert found["database"].status is Status.OK
    assert found["migrations"].status is Status.OK
    assert found["worker"].status is Status.OK
    assert found["redis"].status is Status.FAIL
    assert f"cannot reach Redis at {down_redis}" in found["redis"].detail
    assert found["public URL"].status is Status.FAIL
    assert f"GET {nowhere}/healthz failed" in found["public URL"].detail
    inboxes = {name: finding for name, finding in found.items() if name.startswith("inbox ")}
    assert len(inboxes) == 5
    verdicts = {
        name.split(" (")[1].split(",")[0]: finding
        for name, finding in inboxes.items()
        if "sandbox" not in finding.detail
    }
    assert verdicts["whatsapp"].status is Status.OK
    assert verdicts["messenger"].status is Status.FAIL
    assert "Graph API refused the access token (401, code 190)" in verdicts["messenger"].detail
    assert verdicts["twilio_sms"].status is Status.OK
    assert verdicts["twilio_whatsapp"].status is Status.FAIL
    assert "Twilio refused the account SID and auth token (401, code 20003)" in (
        verdicts["twilio_whatsapp"].detail
    )
    assert sum("sandbox" in finding.detail for finding in inboxes.values()) == 1
    # What each provider was asked: the account, with the inbox's own credentials.
    phone_number_id = SANDBOX_CONFIGS["whatsapp"]["phone_number_id"]
    assert {request.path for request in graph.requests} == {f"/{phone_number_id}", "/1000"}
    assert any(request.path.endswith(f"{twilio.account_sid}.json") for request in twilio.requests)


async def test_a_database_without_migrations_is_named_and_the_rest_skipped(
    empty_database: Database, tmp_path: Any
) -> None:
    async with empty_database.read_session() as session:
        await session.execute(text("SELECT 1"))  # SQLite: the file now exists, empty
    url = empty_database.engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, data_dir=tmp_path, secret_key="k")

    found = by_check(await run_checks(settings, wait_seconds=1))

    assert found["database"].status is Status.OK
    assert found["migrations"].status is Status.FAIL
    assert "the database is empty: run `onethread db upgrade`" in found["migrations"].detail
    assert found["worker"].status is Status.SKIP
    assert found["inboxes"].status is Status.SKIP


async def test_an_unreachable_database_is_named(tmp_path: Any) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/nothing"
    settings = Settings(database_url=url, data_dir=tmp_path, secret_key="k")
    found = by_check(await run_checks(settings, wait_seconds=1))
    assert found["database"].status is Status.FAIL
    assert "cannot connect to postgresql+asyncpg://postgres@127.0.0.1" in found["database"].detail
    assert found["migrations"].status is Status.SKIP


def test_settings_a_deployment_must_get_right(tmp_path: Any) -> None:
    postgres = "postgresql+asyncpg://u:p@db.internal/onethread"
    bare = by_check(
        check_settings(
            Settings(database_url=postgres, data_dir=tmp_path, public_url="http://localhost:8000")
        )
    )
    assert bare["secret key"].status is Status.FAIL
    assert "set the same key everywhere" in bare["secret key"].detail
    assert bare["public URL setting"].status is Status.FAIL
    assert "points at this machine" in bare["public URL setting"].detail
    assert bare["redis setting"].status is Status.WARN
    right = by_check(
        check_settings(
            Settings(
                database_url=postgres,
                data_dir=tmp_path,
                secret_key="shared",
                public_url="https://help.example.com",
                redis_url="redis://cache:6379/0",
            )
        )
    )
    assert {finding.status for finding in right.values()} == {Status.OK}
    embedded = by_check(check_settings(Settings(data_dir=tmp_path)))
    assert embedded["public URL setting"].status is Status.WARN  # a trial on a laptop
    assert embedded["secret key"].status is Status.WARN
    assert "none yet" in embedded["secret key"].detail
    assert not (tmp_path / "secret_key").exists()  # the doctor never makes up a key


async def run_doctor(settings: Settings, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "onethread",
        "doctor",
        "--timeout",
        "2",
        *args,
        env={**os.environ, **settings_env(settings), "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_the_command_says_what_is_wrong_and_exits_1(
    harness: Harness, graph: FakeGraphApi, twilio: FakeTwilioApi, public: HealthzServer
) -> None:
    admin = await workspace(harness)
    await beat(harness.db, "doctor-test-worker")
    settings = harness.app_context.settings.model_copy(
        update={"redis_url": REDIS_URL, "public_url": public.base_url}
    )
    code, output = await run_doctor(settings)
    words = " ".join(output.split())
    assert "OK redis: Redis" in words
    assert f"OK public URL: GET {public.base_url}/healthz answers 200." in words
    assert "OK inboxes: no inbox is connected yet." in words
    if settings.is_sqlite:
        assert code == 0, output
        assert "Nothing is wrong." in words
    else:  # a deployment on PostgreSQL must have a public https URL
        assert code == 1, output
        assert "FAIL public URL setting" in words
        assert "1 problem(s) to fix." in words

    await connect_inboxes(admin, graph, twilio)
    code, output = await run_doctor(settings, "--json")
    assert code == 1
    report = json.loads(output)
    assert report["ok"] is False
    failed = {
        check["check"]: check["detail"] for check in report["checks"] if check["status"] == "fail"
    }
    [messenger] = [detail for name, detail in failed.items() if "messenger" in name]
    assert messenger.startswith("the Graph API refused the access token")
    [twilio_whatsapp] = [detail for name, detail in failed.items() if "twilio_whatsapp" in name]
    assert twilio_whatsapp.startswith("Twilio refused the account SID and auth token")
