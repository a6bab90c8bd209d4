"""A language model in real turns: a faithful phrasing is sent, an invented fact never is."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from pydantic import SecretStr

from onethread.assistant.service import Assistant
from onethread.jobs.context import JobContext
from tests.assistant.test_turns import ARTICLE, PLAYBOOK, Shop, _ai_replies, _notes
from tests.conftest import Harness
from tests.factories import inbox, workspace
from tests.fakes.llm_api import FakeLlmApi


@pytest.fixture
def llm() -> Iterator[FakeLlmApi]:
    with FakeLlmApi() as api:
        yield api


@pytest.fixture
async def shop_with_model(harness: Harness, llm: FakeLlmApi) -> AsyncIterator[Shop]:
    admin = await workspace(harness)
    for name, domain in (("Technical Support", "support"), ("Billing & Accounts", "service")):
        await admin.ok("POST", "/teams", 201, json={"name": name, "domain": domain})
    await admin.ok("PUT", "/playbook", json=PLAYBOOK)
    await admin.ok(
        "POST",
        "/knowledge/articles",
        201,
        json={"title": "Resetting your password", "body": ARTICLE, "language": "en"},
    )
    whatsapp = await inbox(admin, "whatsapp")
    settings = harness.app_context.settings.model_copy(
        update={
            "llm_provider": "openai",
            "llm_base_url": llm.openai_base_url,
            "llm_model": "test-model",
            "llm_api_key": SecretStr(llm.api_key),
            "llm_timeout_seconds": 5.0,
        }
    )
    async with httpx.AsyncClient(timeout=2) as http:
        context = JobContext(
            settings=settings,
            db=harness.db,
            secrets=harness.app_context.secrets,
            http=http,
            assistant=Assistant(),
        )
        yield Shop(admin, whatsapp["id"], harness, context)


QUESTION = "I forgot my password, how can I reset it?"


async def test_a_faithful_phrasing_is_sent(shop_with_model: Shop, llm: FakeLlmApi) -> None:
    faithful = (
        "Sure! Open Settings, choose Security and click Reset password. "
        "The reset link we email you is valid for 30 minutes."
    )
    llm.say(json.dumps([QUESTION]), faithful)
    conversation = await shop_with_model.says("15550201", QUESTION)
    [reply] = _ai_replies(await shop_with_model.messages(conversation["id"]))
    assert faithful in reply
    assert reply.endswith("(from “Resetting your password”)")
    assert (await shop_with_model.decisions())[-1]["phrased_by_model"] is True


async def test_an_invented_refund_window_is_caught(shop_with_model: Shop, llm: FakeLlmApi) -> None:
    invented = (
        "Open Settings, choose Security and click Reset password. The link is valid for "
        "24 hours, and we refund any plan within 60 days, no questions asked."
    )
    llm.say(json.dumps([QUESTION]), invented)
    conversation = await shop_with_model.says("15550202", QUESTION)
    [reply] = _ai_replies(await shop_with_model.messages(conversation["id"]))
    assert "60 days" not in reply
    assert "24 hours" not in reply
    assert "valid for 30 minutes" in reply  # the template answer, from the article
    assert (await shop_with_model.decisions())[-1]["phrased_by_model"] is False


async def test_a_summary_inventing_a_price_is_dropped(
    shop_with_model: Shop, llm: FakeLlmApi
) -> None:
    text = "the export button is broken"
    llm.say(json.dumps([text]), "Customer was promised a $50 credit for the broken export.")
    conversation = await shop_with_model.says("15550203", text)
    [note] = _notes(await shop_with_model.messages(conversation["id"]))
    assert "$50" not in note
    assert note.startswith("Handoff: ")
