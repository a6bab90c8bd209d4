"""JSON log lines, and the request id that follows a webhook or an API call into its jobs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from onethread.channels import meta
from onethread.conversations.models import Conversation, Message
from onethread.jobs.context import JobContext
from onethread.observability import context
from onethread.observability.logs import ContextFilter, JsonFormatter, logging_config
from onethread.outbox.models import Job
from onethread.settings import Settings
from tests.channels.conftest import APP_SECRET, drain
from tests.channels.test_ingest_batching import text_webhook
from tests.conftest import Harness
from tests.factories import workspace
from tests.fakes.graph_api import FakeGraphApi
from tests.ops.conftest import path_of, whatsapp_inbox
from tests.processes import _free_port, settings_env


@contextmanager
def json_lines() -> Iterator[list[dict[str, Any]]]:
    """Everything onethread logs meanwhile (DEBUG and up), as the parsed JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("onethread")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        lines += [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_names_its_request_its_job_and_its_exception() -> None:
    record = logging.LogRecord("onethread.x", logging.ERROR, __file__, 1, "boom %s", ("now",), None)
    try:
        raise ValueError("bad value")
    except ValueError:
        record.exc_info = sys.exc_info()
    request = context.request_id.set("req-1")
    tokens = context.enter_job(7, "delivery.send", {"request_id": "from-payload"})
    try:
        ContextFilter().filter(record)
    finally:
        context.leave_job(tokens)
        context.request_id.reset(request)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "ERROR"
    assert line["logger"] == "onethread.x"
    assert line["message"] == "boom now"
    assert line["request_id"] == "from-payload"  # inside a job, the request that caused it
    assert (line["job_id"], line["job_kind"]) == (7, "delivery.send")
    assert "ValueError: bad value" in line["exc_info"]
    assert line["time"].endswith("+00:00")
    assert context.request_id.get() is None


def test_uvicorn_loggers_go_through_the_same_json_handler() -> None:
    config = logging_config("json", "warning")
    assert config["root"]["level"] == "WARNING"
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        assert config["loggers"][name] == {"handlers": [], "propagate": True, "level": "WARNING"}
    assert config["formatters"]["default"] == {"()": JsonFormatter}
    assert "()" not in logging_config("text", "INFO")["formatters"]["default"]


async def test_a_webhooks_request_id_is_on_its_jobs_log_lines(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    path = path_of(await whatsapp_inbox(admin, graph))
    raw = text_webhook("wamid.rid")
    response = await harness.client.post(
        path,
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": _meta_signature(raw),
            "X-Request-ID": "abc",
        },
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "abc"
    with json_lines() as turn_lines:
        await drain(harness, job_context)
    async with harness.db.read_session() as session:
        conversation_id = await session.scalar(select(Conversation.id))
    await admin.ok(
        "POST",
        f"/conversations/{conversation_id}/reply",
        201,
        json={"text": "On its way"},
        headers={"X-Request-ID": "reply-7"},
    )
    with json_lines() as delivery_lines:
        await drain(harness, job_context)

    turns = [line for line in turn_lines if line.get("job_kind") == "assistant.turn"]
    assert turns, turn_lines
    assert {line["request_id"] for line in turns} == {"abc"}
    sends = [line for line in delivery_lines if line.get("job_kind") == "delivery.send"]
    assert sends, delivery_lines
    assert {line["request_id"] for line in sends} == {"reply-7"}
    assert graph.requests[-1].json["text"]["body"] == "On its way"


async def test_requests_committed_together_keep_their_own_ids(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    path = path_of(await whatsapp_inbox(admin, graph))

    async def post(number: int) -> httpx.Response:
        raw = text_webhook(f"wamid.g{number}", number=f"1650555{number:04d}")
        return await harness.client.post(
            path,
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": _meta_signature(raw),
                "X-Request-ID": f"req-{number}",
            },
        )

    # Returning customers take the batch step, first contacts their own unit: both paths.
    await post(0)
    responses = await asyncio.gather(*(post(number) for number in range(12)))
    assert all(response.status_code == 200 for response in responses)
    async with harness.db.read_session() as session:
        rows = (
            await session.execute(
                select(Message.external_id, Job.payload).join(
                    Job, Job.payload["message_id"].as_integer() == Message.id
                )
            )
        ).all()
    assert len(rows) == 12
    for external_id, payload in rows:
        assert payload["request_id"] == "req-" + str(int(external_id.removeprefix("wamid.g")))


async def test_serve_and_worker_processes_log_json_and_the_worker_serves_metrics(
    tmp_path: Path,
) -> None:
    # About logging, not a database: the embedded one, once.
    settings = Settings(data_dir=tmp_path, secret_key="k", log_format="json")
    env = {**os.environ, **settings_env(settings)}
    port = _free_port()
    serve_lines = await _lines_of(
        ["serve", "--port", str(port), "--no-worker"],
        env,
        f"http://127.0.0.1:{port}/healthz",
        {"X-Request-ID": "trace-42"},
    )
    assert {"uvicorn.error", "uvicorn.access"} <= {line["logger"] for line in serve_lines}
    assert all({"time", "level", "logger", "message"} <= set(line) for line in serve_lines)
    [access] = [line for line in serve_lines if line["logger"] == "uvicorn.access"]
    assert access["request_id"] == "trace-42"
    assert '"GET /healthz HTTP/1.1" 200' in access["message"]

    port = _free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    worker_lines = await _lines_of(["worker", "--metrics-port", str(port)], env, url, {})
    assert any("worker metrics on" in line["message"] for line in worker_lines)


async def _lines_of(
    command: list[str], env: dict[str, str], url: str, headers: dict[str, str]
) -> list[dict[str, Any]]:
    """Start ``onethread <command>``, wait for ``url`` to answer 200, stop it: its log lines."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "onethread",
        *command,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        text = await _answer(url, headers)
    finally:
        process.terminate()
        _, errors = await asyncio.wait_for(process.communicate(), 15)
    if url.endswith("/metrics"):
        assert "# TYPE onethread_jobs_total counter" in text
        assert "# TYPE onethread_delivery_failures_total counter" in text
    return [json.loads(line) for line in errors.decode().splitlines() if line]


async def _answer(url: str, headers: dict[str, str]) -> str:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(400):
            try:
                response = await client.get(url, headers=headers)
            except httpx.TransportError:
                await asyncio.sleep(0.05)
                continue
            assert response.status_code == 200
            return response.text
    raise AssertionError(f"nothing answered at {url}")


def _meta_signature(raw: bytes) -> str:
    return meta.sign(raw, APP_SECRET)
