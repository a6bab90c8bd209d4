"""Language models over real HTTP (a fake OpenAI / Anthropic API on loopback), and the
grounding check on everything they write."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from onethread.assistant.decision import ReplyPart, Source
from onethread.assistant.llm import (
    ChatTurn,
    GroundedWriter,
    LanguageModel,
    LanguageModelConfigError,
    LanguageModelError,
    load_language_model,
)
from onethread.settings import Settings
from tests.fakes.llm_api import ANTHROPIC_PATH, OPENAI_PATH, FakeLlmApi

PROVIDERS = ["openai", "anthropic"]


def rejected_for(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Why the writer rejected outputs: proves a None came from a check, not a failure."""
    return [
        record.getMessage().split(", ", 1)[1].split(":", 1)[0]
        for record in caplog.records
        if "output rejected" in record.getMessage()
    ]


@pytest.fixture
def api() -> Iterator[FakeLlmApi]:
    with FakeLlmApi() as fake:
        yield fake


def settings_for(api: FakeLlmApi, provider: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_provider": provider,
        "llm_base_url": api.openai_base_url if provider == "openai" else api.base_url,
        "llm_model": "test-model-1",
        "llm_api_key": api.api_key,
        "llm_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(params=PROVIDERS)
async def model(request: pytest.FixtureRequest, api: FakeLlmApi) -> AsyncIterator[LanguageModel]:
    loaded = load_language_model(settings_for(api, request.param))
    assert loaded is not None
    yield loaded
    await loaded.close()


@pytest.fixture
def writer(model: LanguageModel) -> GroundedWriter:
    return GroundedWriter(model, timeout_seconds=5.0)


# --- the providers speak their API ---


async def test_openai_request_shape(api: FakeLlmApi) -> None:
    model = load_language_model(settings_for(api, "openai"))
    assert model is not None
    api.say("Hello from the model.")
    turns = [ChatTurn("user", "Hi"), ChatTurn("assistant", "Hello"), ChatTurn("user", "Price?")]
    text = await model.complete("Be brief.", turns, max_tokens=50, temperature=0.2)
    await model.close()
    assert text == "Hello from the model."
    (request,) = api.requests
    assert request.path == OPENAI_PATH
    assert request.headers["authorization"] == f"Bearer {api.api_key}"
    assert request.json["model"] == "test-model-1"
    assert request.json["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Price?"},
    ]
    assert (request.json["max_tokens"], request.json["temperature"]) == (50, 0.2)


async def test_anthropic_request_shape(api: FakeLlmApi) -> None:
    model = load_language_model(settings_for(api, "anthropic"))
    assert model is not None
    api.say("Hello from Claude.")
    turns = [ChatTurn("user", "Hi"), ChatTurn("assistant", "Hello"), ChatTurn("user", "Price?")]
    text = await model.complete("Be brief.", turns, max_tokens=50, temperature=0.2)
    await model.close()
    assert text == "Hello from Claude."
    (request,) = api.requests
    assert request.path == ANTHROPIC_PATH
    assert api.anthropic_key_sent(request)
    assert request.headers["anthropic-version"]
    assert request.json["model"] == "test-model-1"
    assert request.json["system"] == "Be brief."
    assert request.json["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Price?"},
    ]
    assert request.json["max_tokens"] == 50
    assert "temperature" not in request.json  # current Claude models refuse it


async def test_openai_falls_back_to_the_reasoning_model_request_shape(api: FakeLlmApi) -> None:
    api.refuse_legacy_parameters = True
    model = load_language_model(settings_for(api, "openai"))
    assert model is not None
    api.say("first", "second")
    assert (
        await model.complete("s", [ChatTurn("user", "a")], max_tokens=9, temperature=0) == "first"
    )
    assert (
        await model.complete("s", [ChatTurn("user", "b")], max_tokens=9, temperature=0) == "second"
    )
    await model.close()
    refused, retried, remembered = (request.json for request in api.requests)
    assert refused["max_tokens"] == 9
    for body in (retried, remembered):
        assert body["max_completion_tokens"] == 9
        assert "max_tokens" not in body
        assert "temperature" not in body


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_wrong_key_is_a_language_model_error(api: FakeLlmApi, provider: str) -> None:
    model = load_language_model(settings_for(api, provider, llm_api_key="sk-wrong"))
    assert model is not None
    with pytest.raises(LanguageModelError, match="401"):
        await model.complete("s", [ChatTurn("user", "hi")], max_tokens=10, temperature=0)
    assert await GroundedWriter(model).summarize_handoff("Customer asks about INV-1042.") is None
    await model.close()


# --- failures never reach the assistant ---


async def test_a_server_error_returns_none(api: FakeLlmApi, writer: GroundedWriter) -> None:
    api.script(status=500)
    assert await writer.summarize_handoff("Customer asks about INV-1042.") is None
    api.script(status=529)  # Anthropic's "overloaded"
    assert await writer.split_topics("I was double-charged and export is broken") is None


async def test_the_call_timeout_returns_none(api: FakeLlmApi, model: LanguageModel) -> None:
    api.script(delay=3.0)
    writer = GroundedWriter(model, timeout_seconds=0.3)
    started = time.monotonic()
    assert await writer.summarize_handoff("Customer asks about INV-1042.") is None
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_provider_timeout_returns_none(api: FakeLlmApi, provider: str) -> None:
    model = load_language_model(settings_for(api, provider, llm_timeout_seconds=0.3))
    assert model is not None
    api.script(delay=3.0)
    started = time.monotonic()
    assert (
        await GroundedWriter(model, timeout_seconds=10).summarize_handoff("About INV-1042.") is None
    )
    assert time.monotonic() - started < 2.0
    await model.close()


async def test_an_empty_answer_returns_none(api: FakeLlmApi, writer: GroundedWriter) -> None:
    api.say("   ")
    assert await writer.summarize_handoff("Customer asks about INV-1042.") is None


# --- phrasing grounded parts ---

CHARGES = Source(
    kind="action",
    ref="billing.charges",
    title="Charges",
    text="invoice: INV-1042\ncharge: $49.00 on 2026-11-03\ncharge: $49.00 on 2026-11-03\n"
    "duplicate: yes\nrefund: issued, arrives within 5 business days",
)
REFUND_ARTICLE = Source(
    kind="article",
    ref="kb/refunds#duplicate",
    title="Duplicate charges",
    text="If you were charged twice, the duplicate charge is refunded automatically within "
    "5 business days. Refunds for annual plans are prorated.",
)
PARTS = [
    ReplyPart(
        topic="billing",
        text="I've checked your charges: invoice INV-1042 was charged $49.00 twice on "
        "3 November 2026. The duplicate charge is refunded automatically within 5 business days.",
        sources=[CHARGES, REFUND_ARTICLE],
    ),
    ReplyPart(
        topic="export_bug",
        text="About the export button, I've passed this to our technical team, who will reply "
        "here.",
        sources=[],
    ),
]
ALLOWED = ["I've passed this to our technical team, who will reply here."]


async def test_a_faithful_phrasing_is_used(api: FakeLlmApi, writer: GroundedWriter) -> None:
    phrased = (
        "I've checked your charges: invoice INV-1042 was charged $49.00 twice on 3 November "
        "2026, and the duplicate charge is refunded automatically within 5 business days. "
        "About the export button, I've passed this to our technical team, who will reply here."
    )
    api.say(phrased)
    answer = await writer.phrase_answer(PARTS, "en", "friendly", allowed=ALLOWED)
    assert answer == phrased
    (request,) = api.requests
    sent = json.dumps(request.json)
    for expected in ("INV-1042", "friendly", "English"):
        assert expected in sent


@pytest.mark.parametrize(
    ("invented", "why"),
    [
        (  # a price
            "I've checked your charges: invoice INV-1042 was charged $59.00 twice on 3 November "
            "2026. The duplicate charge is refunded automatically within 5 business days. "
            "About the export button, our technical team will reply here.",
            "unsupported facts",
        ),
        (  # a refund policy, without a single number in it
            "I've checked your charges: invoice INV-1042 was charged $49.00 twice on 3 November "
            "2026. The duplicate charge is refunded automatically within 5 business days. "
            "We also give a full refund on any plan, no questions asked. About the export "
            "button, I've passed this to our technical team, who will reply here.",
            "unsupported sentences",
        ),
        (  # percentages
            "Invoice INV-1042 was charged $49.00 twice on 3 November 2026; you'll get 100% back "
            "within 5 business days plus a 10% credit. Our technical team will reply here.",
            "unsupported facts",
        ),
        (  # a fact of the parts dropped: the amount
            "I've checked your charges: invoice INV-1042 was charged twice on 3 November 2026. "
            "The duplicate charge is refunded automatically within 5 business days. About the "
            "export button, I've passed this to our technical team, who will reply here.",
            "facts dropped",
        ),
    ],
)
async def test_an_invented_or_lossy_phrasing_is_rejected(
    api: FakeLlmApi,
    writer: GroundedWriter,
    caplog: pytest.LogCaptureFixture,
    invented: str,
    why: str,
) -> None:
    api.say(invented)
    caplog.set_level("INFO", "onethread.assistant.llm")
    assert await writer.phrase_answer(PARTS, "en", "friendly", allowed=ALLOWED) is None
    assert rejected_for(caplog) == [why]


async def test_a_phrasing_in_the_customers_language(
    api: FakeLlmApi, writer: GroundedWriter
) -> None:
    parts = [
        ReplyPart(
            topic="billing",
            text="J'ai vérifié vos paiements : la facture INV-1042 a été débitée deux fois de "
            "49,00 $ le 3 novembre 2026. Le doublon est remboursé automatiquement sous "
            "5 jours ouvrés.",
            sources=[CHARGES],
        )
    ]
    faithful = (
        "J'ai vérifié vos paiements : la facture INV-1042 a bien été débitée deux fois de "
        "49,00 $ le 3 novembre 2026. Le doublon vous est remboursé automatiquement sous "
        "5 jours ouvrés."
    )
    api.say(faithful, faithful.replace("49,00 $", "94,00 $"))
    assert await writer.phrase_answer(parts, "fr", "chaleureux") == faithful
    assert await writer.phrase_answer(parts, "fr", "chaleureux") is None


# --- splitting a message into topics ---

MESSAGE = "I was double-charged on INV-1042 and the export button is broken since Monday."


async def test_split_topics(api: FakeLlmApi, writer: GroundedWriter) -> None:
    api.say(
        '["I was double-charged on INV-1042", "the export button is broken since Monday."]',
        '```json\n["I was double-charged on INV-1042", "the export button is broken"]\n```',
    )
    assert await writer.split_topics(MESSAGE) == [
        "I was double-charged on INV-1042",
        "the export button is broken since Monday.",
    ]
    assert await writer.split_topics(MESSAGE) == [
        "I was double-charged on INV-1042",
        "the export button is broken",
    ]


@pytest.mark.parametrize(
    "answer",
    [
        '["I was charged twice on INV-1042", "export is broken"]',  # reworded
        '["I was double-charged on INV-1043", "the export button is broken"]',  # changed
        "Topics: billing, export",  # no JSON
        '{"topics": ["billing"]}',  # no array
        '["I was double-charged", 42]',
        "[]",
    ],
)
async def test_split_topics_rejects_anything_not_copied(
    api: FakeLlmApi, writer: GroundedWriter, caplog: pytest.LogCaptureFixture, answer: str
) -> None:
    api.say(answer)
    caplog.set_level("INFO", "onethread.assistant.llm")
    assert await writer.split_topics(MESSAGE) is None
    assert len(rejected_for(caplog)) == 1


# --- handoff summaries ---

CONTEXT = """Language: en. Sentiment: negative. Reason: customer_requested_human.
Topics: billing (service), export_bug (support).
Slots: invoice INV-1042.
Action billing.charges: done; two charges of $49.00 on 2026-11-03, refund issued.
Assistant told the customer: the duplicate charge is refunded within 5 business days.
Customer: "I was double-charged and the export button is broken. I want a person."
"""


async def test_a_faithful_summary_is_used(api: FakeLlmApi, writer: GroundedWriter) -> None:
    summary = (
        "Customer wants a person (negative sentiment).\n"
        "- Billing: INV-1042 charged $49.00 twice on 2026-11-03; refund issued.\n"
        "- Told the duplicate charge is refunded within 5 business days.\n"
        "- Also reports the export button is broken."
    )
    api.say(summary)
    assert await writer.summarize_handoff(CONTEXT) == summary


@pytest.mark.parametrize(
    "summary",
    [
        "Customer charged $490.00 twice on INV-1042; refund issued.",
        "Customer charged $49.00 twice on INV-1042. Offer them a free month as compensation.",
        "Customer charged $49.00 twice on INV-1042; refund due by 10 November 2026.",
    ],
)
async def test_an_invented_summary_is_rejected(
    api: FakeLlmApi, writer: GroundedWriter, caplog: pytest.LogCaptureFixture, summary: str
) -> None:
    api.say(summary)
    caplog.set_level("INFO", "onethread.assistant.llm")
    assert await writer.summarize_handoff(CONTEXT) is None
    assert len(rejected_for(caplog)) == 1


# --- translation ---

ENGLISH = "Invoice INV-1042 was charged $1,234.50 twice on 3 November 2026; 15% is refunded."


async def test_a_translation_keeping_every_fact_is_used(
    api: FakeLlmApi, writer: GroundedWriter
) -> None:
    french = (
        "La facture INV-1042 a été débitée deux fois de 1 234,50 $ le 3 novembre 2026 ; "
        "15 % sont remboursés."
    )
    api.say(french)
    assert await writer.translate(ENGLISH, "fr", source_language="en") == french
    assert "French" in json.dumps(api.requests[-1].json)


@pytest.mark.parametrize(
    "translation",
    [
        # a changed amount
        "La facture INV-1042 a été débitée deux fois de 1 243,50 $ le 3 novembre 2026 ; "
        "15 % sont remboursés.",
        # a lost percentage
        "La facture INV-1042 a été débitée deux fois de 1 234,50 $ le 3 novembre 2026 ; "
        "une partie est remboursée.",
        # the date flipped by writing it the American way in French
        "La facture INV-1042 a été débitée deux fois de 1 234,50 $ le 11/03/2026 ; "
        "15 % sont remboursés.",
        # an added fact
        "La facture INV-1042 a été débitée deux fois de 1 234,50 $ le 3 novembre 2026 ; "
        "15 % sont remboursés sous 10 jours.",
    ],
)
async def test_a_translation_that_changes_a_fact_is_rejected(
    api: FakeLlmApi, writer: GroundedWriter, caplog: pytest.LogCaptureFixture, translation: str
) -> None:
    api.say(translation)
    caplog.set_level("INFO", "onethread.assistant.llm")
    assert await writer.translate(ENGLISH, "fr", source_language="en") is None
    assert rejected_for(caplog) == ["facts changed"]


# --- loading ---


def test_no_provider_means_no_model() -> None:
    assert load_language_model(Settings(llm_provider="none")) is None


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_without_a_model_name_stops_startup(provider: str) -> None:
    settings = Settings(llm_provider=provider, llm_api_key="k", llm_model="")
    with pytest.raises(LanguageModelConfigError, match="ONETHREAD_LLM_MODEL"):
        load_language_model(settings)


def test_anthropic_needs_a_key() -> None:
    with pytest.raises(LanguageModelConfigError, match="ONETHREAD_LLM_API_KEY"):
        load_language_model(Settings(llm_provider="anthropic", llm_model="claude-test"))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_without_its_extra_stops_startup(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, provider, None)  # as if the SDK were not installed
    settings = Settings(llm_provider=provider, llm_api_key="k", llm_model="m")
    with pytest.raises(LanguageModelConfigError, match=rf"pip install 'onethread\[{provider}\]'"):
        load_language_model(settings)
