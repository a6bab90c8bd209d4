"""Python actions found through a real ``onethread.actions`` entry point: a distribution
written to a temporary directory on ``sys.path``, as pip would install it."""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from onethread.assistant.action_python import forget_loaded_actions
from onethread.assistant.actions_runner import (
    ActionDone,
    ActionFailed,
    ActionNeedsSlots,
    ActionNotFound,
    ActionOutcome,
    contact_facts,
    run_action,
)
from onethread.contacts.models import Contact
from onethread.playbook.schemas import PythonAction, SlotKind

SECRET = "s3cret-value-for-tests"

MODULE = """
import asyncio
import time


def echo(request):
    return {
        "customer": request.facts.attributes["customer_id"],
        "order": request.slots["order_number"],
        "language": request.language,
        "sum": 1.5 + 1,
    }


async def slow(request):
    await asyncio.sleep(5)


def slow_sync(request):
    time.sleep(1)
    return {"late": True}


def boom(request):
    raise ValueError("the key " + request.secrets["key"] + " was rejected")


def not_json(request):
    return {"when": object()}


def nothing(request):
    return None
"""

ENTRY_POINTS = ["echo", "slow", "slow_sync", "boom", "not_json", "nothing"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    root = tmp_path_factory.mktemp("site")
    (root / "onethread_test_actions.py").write_text(textwrap.dedent(MODULE))
    dist_info = root / "onethread_test_actions-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: onethread-test-actions\nVersion: 1.0\n"
    )
    lines = [f"test_{name} = onethread_test_actions:{name}" for name in ENTRY_POINTS]
    (dist_info / "entry_points.txt").write_text("[onethread.actions]\n" + "\n".join(lines) + "\n")
    sys.path.insert(0, str(root))
    forget_loaded_actions()
    try:
        yield
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("onethread_test_actions", None)
        forget_loaded_actions()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def run(
    http: httpx.AsyncClient, entry_point: str, *, seconds: float = 2, **slots: str
) -> ActionOutcome:
    action = PythonAction(
        name="probe",
        entry_point=entry_point,
        requires=["attributes.customer_id"],
        slots=[SlotKind.ORDER_NUMBER],
        timeout_seconds=seconds,
        reply={"en": "Order {{ result.order }} of {{ result.customer }}: {{ result.sum }}"},
        not_found_reply={"en": "Nothing."},
    )
    facts = contact_facts(Contact(attributes={"customer_id": "cus_1"}), [])
    return await run_action(
        action,
        facts=facts,
        slots={SlotKind(kind): value for kind, value in slots.items()},
        vars={},
        secrets={"key": SECRET},
        http=http,
        language="fr",
        default_language="en",
    )


@pytest.mark.usefixtures("installed")
async def test_a_registered_callable_runs_with_the_request(http: httpx.AsyncClient) -> None:
    outcome = await run(http, "test_echo", order_number="A-7")
    assert outcome == ActionDone(
        {"customer": "cus_1", "order": "A-7", "language": "fr", "sum": 2.5},
        "Order A-7 of cus_1: 2.5",
        ["cus_1", "A-7", "fr", "2.5", "2.50"],
        "en",
    )


@pytest.mark.usefixtures("installed")
async def test_slots_are_checked_before_the_callable(http: httpx.AsyncClient) -> None:
    assert await run(http, "test_echo") == ActionNeedsSlots([SlotKind.ORDER_NUMBER])


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize("entry_point", ["test_slow", "test_slow_sync"])
async def test_a_slow_callable_times_out(http: httpx.AsyncClient, entry_point: str) -> None:
    started = time.perf_counter()
    outcome = await run(http, entry_point, seconds=0.2, order_number="A-7")
    assert isinstance(outcome, ActionFailed)
    assert outcome.reason == "timeout"
    assert time.perf_counter() - started < 0.9


@pytest.mark.usefixtures("installed")
async def test_an_exception_fails_without_leaking_the_secret(http: httpx.AsyncClient) -> None:
    outcome = await run(http, "test_boom", order_number="A-7")
    assert outcome == ActionFailed("error", "test_boom: ValueError: the key [secret] was rejected")


@pytest.mark.usefixtures("installed")
async def test_results_must_be_json_like(http: httpx.AsyncClient) -> None:
    outcome = await run(http, "test_not_json", order_number="A-7")
    assert isinstance(outcome, ActionFailed)
    assert outcome.reason == "bad_result"


@pytest.mark.usefixtures("installed")
async def test_none_is_not_found(http: httpx.AsyncClient) -> None:
    outcome = await run(http, "test_nothing", order_number="A-7")
    assert outcome == ActionNotFound("Nothing.", "en")


@pytest.mark.usefixtures("installed")
async def test_an_unknown_entry_point_fails(http: httpx.AsyncClient) -> None:
    outcome = await run(http, "test_not_registered", order_number="A-7")
    assert isinstance(outcome, ActionFailed)
    assert outcome.reason == "unknown_entry_point"


def test_the_demo_declares_its_entry_point() -> None:
    from importlib.metadata import entry_points

    found = entry_points(group="onethread.actions", name="demo_plan_quote")
    assert [ep.value for ep in found] == ["onethread.demo.actions:plan_quote"]
