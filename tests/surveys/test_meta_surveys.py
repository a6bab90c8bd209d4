"""Surveys on Messenger: quick replies out, the tapped payload back through the webhook."""

from __future__ import annotations

import copy
from typing import Any

from onethread.jobs.context import JobContext
from tests.channels.conftest import drain, fixture, meta_bytes, post_meta
from tests.channels.test_meta_messaging_e2e import meta_inbox
from tests.channels.test_whatsapp_e2e import path_of
from tests.conftest import Harness
from tests.factories import workspace
from tests.fakes.graph_api import FakeGraphApi
from tests.surveys.flow import ask_with, only_thread, survey_rows


def messenger_message(mid: str, text: str, payload: str | None = None) -> bytes:
    body: dict[str, Any] = copy.deepcopy(fixture("messenger_text.json")["body"])
    message = body["entry"][0]["messaging"][0]["message"]
    message.update({"mid": mid, "text": text})
    if payload is not None:
        message["quick_reply"] = {"payload": payload}
    return meta_bytes(body)


async def test_messenger_asks_with_quick_replies_and_reads_the_payload(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    created = await meta_inbox(admin, graph, "messenger")
    path = path_of(await ask_with(admin, created["id"], csat=True, nps=True))
    assert (await post_meta(harness.client, path, messenger_message("m.1", "hi"))).is_success
    thread = await only_thread(harness)
    await admin.ok("POST", f"/conversations/{thread.id}/resolve")
    await drain(harness, job_context)

    def sent() -> list[dict[str, Any]]:
        return [r.json for r in graph.requests if r.path.endswith("/messages")]

    [csat] = sent()
    replies = csat["message"]["quick_replies"]
    assert [(r["title"], r["payload"]) for r in replies] == [
        (str(n), f"survey:csat:{n}") for n in range(1, 6)
    ]
    tapped = messenger_message("m.2", "5", payload="survey:csat:5")
    assert (await post_meta(harness.client, path, tapped)).is_success
    await drain(harness, job_context)
    nps = sent()[-1]
    assert len(nps["message"]["quick_replies"]) == 11  # within Meta's 13
    tapped = messenger_message("m.3", "7", payload="survey:nps:7")
    assert (await post_meta(harness.client, path, tapped)).is_success
    assert (await only_thread(harness)).status == "resolved"
    assert [(s.kind, s.status, s.score, s.channel) for s in await survey_rows(harness)] == [
        ("csat", "answered", 5, "messenger"),
        ("nps", "answered", 7, "messenger"),
    ]
