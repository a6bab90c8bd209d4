"""The weekly review on a hand-built week: gaps clustered, handoffs that broke, comments,
the week against the one before; through the API, as HTML and from the command line."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onethread.assistant.encoder import default_encoder
from onethread.cli import app
from onethread.errors import InvalidInput
from onethread.review.gaps import Question, cluster
from onethread.review.weekly import build_review, week_period
from onethread.settings import Settings
from tests.conftest import Harness
from tests.factories import workspace
from tests.reports.history import MONDAY, History, Thread, at

WEEK = "2026-W10"  # MONDAY's week
SOC2 = ("do you have a SOC 2 report?", "is there a SOC2 certificate I can download")
WIRE = "can I pay by bank transfer instead of card"


def test_a_week_is_monday_to_monday_in_the_workspace_timezone() -> None:
    week = week_period(WEEK, "UTC")
    assert (week.start, (week.end - week.start).days) == (MONDAY, 7)
    assert week_period("2026-03-05", "UTC").start == MONDAY
    paris = week_period(WEEK, "Europe/Paris")
    assert paris.start.isoformat() == "2026-03-01T23:00:00+00:00"
    last = week_period(None, "UTC", today=date(2026, 3, 11))  # a Wednesday
    assert last.start == MONDAY
    with pytest.raises(InvalidInput, match="ISO week"):
        week_period("last week", "UTC")


def test_questions_that_mean_the_same_are_one_gap() -> None:
    texts = [SOC2[0], WIRE, SOC2[1], "can I pay with a wire transfer?", "do you ship to Norway"]
    questions = [Question(i, text, "no_knowledge", (), MONDAY) for i, text in enumerate(texts)]
    gaps = cluster(questions, default_encoder())
    grouped = sorted(sorted(q.text for q in gap.questions) for gap in gaps)
    assert grouped == sorted(
        [sorted(SOC2), sorted([WIRE, "can I pay with a wire transfer?"]), ["do you ship to Norway"]]
    )
    assert [gap.count for gap in gaps] == [2, 2, 1]


async def _missed(thread: Thread, day: int, text: str, reason: str, *, part: bool = False) -> None:
    """The customer asks; the assistant cannot ground it (wholly, or one part of it)."""
    await thread.received(at(day, 10), text)
    decision = {"outcome": "partial", "reason": "answered"} if part else {"reason": reason}
    handed_off = [{"topic": "security", "reason": reason}] if part else []
    await thread.event(
        "assistant.decided",
        at(day, 10, 1),
        language="en",
        topics=[{"name": "security", "domain": "support", "confidence": 0.4}],
        handed_off=handed_off,
        **{"outcome": "handoff", **decision},
    )


async def a_week(history: History) -> None:
    """MONDAY's week: three questions missed, a slow pickup, a handoff transferred twice,
    a poor CSAT; the week before: slower first responses and a happy customer."""
    soc = await history.thread(at(0, 9, 59), first_message=None)
    await soc.topics(at(0, 9, 59), ("security", "support"))
    await _missed(soc, 0, SOC2[0], "no_knowledge")
    await soc.handoff(at(0, 10, 1), "no_knowledge")
    await soc.reply(at(0, 12, 31), "agent")  # picked up 2.5 h later
    again = await history.thread(at(1, 9, 59), first_message=None)
    await again.topics(at(1, 9, 59), ("security", "support"))
    await _missed(again, 1, SOC2[1], "ungrounded", part=True)
    wire = await history.thread(at(2, 9, 59), first_message=None)
    await _missed(wire, 2, WIRE, "low_confidence")
    answered = await history.thread(at(2, 11))
    await answered.event("assistant.decided", at(2, 11, 1), outcome="reply", reason="answered")
    bounced = await history.thread(at(3, 9))
    await bounced.topics(at(3, 9), ("billing", "service"))
    await bounced.decided(at(3, 9, 1), outcome="handoff")
    await bounced.handoff(at(3, 9, 1), "customer_requested_human")
    await bounced.transfer(at(3, 9, 5), team_id=1, previous=None)
    await bounced.transfer(at(3, 9, 9), team_id=2, previous=1)
    await bounced.transfer(at(3, 9, 10), team_id=3, previous=2)  # a first routing is no transfer
    await bounced.reply(at(3, 9, 12), "agent")
    await bounced.resolve(at(3, 9, 30), "human")
    await bounced.event(
        "survey.answered",
        at(3, 9, 40),
        kind="csat",
        score=2,
        comment="I was passed around",
        handler="human",
    )
    await bounced.event(
        "survey.answered", at(3, 9, 41), kind="nps", score=9, comment=None, handler="human"
    )
    earlier = await history.thread(at(-5, 9))  # the previous week
    await earlier.reply(at(-5, 12), "agent")
    await earlier.resolve(at(-5, 12, 30), "human")
    await earlier.event(
        "survey.answered", at(-5, 12, 40), kind="csat", score=5, comment=None, handler="human"
    )


async def _a_week(harness: Harness) -> int:
    admin = await workspace(harness)
    await a_week(History(harness.db, admin.workspace_id))
    return admin.workspace_id


async def test_the_review_of_a_week(harness: Harness) -> None:
    workspace_id = await _a_week(harness)
    review = (await build_review(harness.db, workspace_id, WEEK, default_encoder())).as_json()

    gaps = review["knowledge_gaps"]
    assert gaps["questions"] == 3
    assert [(g["count"], sorted(g["examples"])) for g in gaps["clusters"]] == [
        (2, sorted(SOC2)),
        (1, [WIRE]),
    ]
    assert gaps["clusters"][0]["reasons"] == {"no_knowledge": 1, "ungrounded": 1}
    broken = review["broken_handoffs"]
    assert broken["counts"] == {
        "slow_pickup": 1,
        "transferred_twice": 1,
        "repeated_themselves": 0,
        "reopened": 0,
    }
    # The longest wait first among equally broken handoffs.
    assert [b["problems"] for b in broken["conversations"]] == [
        ["slow_pickup"],
        ["transferred_twice"],
    ]
    topics = {t["topic"]: (t["conversations"], t["handoffs"]) for t in review["topics"]}
    assert topics == {"security": (2, 1), "billing": (1, 1)}
    assert [(c["kind"], c["score"], c["text"]) for c in review["comments"]] == [
        ("csat", 2, "I was passed around")
    ]
    volume = next(m for m in review["metrics"] if m["key"] == "volume")
    assert (volume["value"], volume["previous"]) == (5, 1)
    assert review["week"] == WEEK


async def test_the_review_over_http_is_the_callers_workspace_only(harness: Harness) -> None:
    await _a_week(harness)
    stranger = await workspace(harness, name="Other")
    empty = await stranger.ok("GET", "/reports/weekly", params={"week": WEEK})
    assert empty["knowledge_gaps"] == {"questions": 0, "clusters": []}
    assert empty["comments"] == []
    page = await stranger.get("/reports/weekly.html", params={"week": WEEK})
    assert page.status_code == 200
    assert "Weekly review" in page.text
    assert "<script" not in page.text
    bad = await stranger.get("/reports/weekly", params={"week": "soon"})
    assert bad.status_code == 400
    assert "ISO week" in bad.json()["error"]["message"]


async def test_the_command_writes_a_standalone_html_file_and_json(
    harness: Harness, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace_id = await _a_week(harness)
    monkeypatch.setenv("ONETHREAD_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("ONETHREAD_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    html_file, json_file = tmp_path / "review.html", tmp_path / "review.json"
    common = ["report", "weekly", "--workspace", str(workspace_id), "--week", WEEK]
    written = await asyncio.to_thread(runner.invoke, app, [*common, "--out", str(html_file)])
    assert written.exit_code == 0, written.output
    html = html_file.read_text()
    for shown in ("Knowledge gaps", SOC2[0].split("?")[0], "transferred more than once", "<svg"):
        assert shown in html
    assert "<script" not in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing fetched
    written = await asyncio.to_thread(
        runner.invoke, app, [*common, "--format", "json", "--out", str(json_file)]
    )
    assert written.exit_code == 0, written.output
    assert json.loads(json_file.read_text())["knowledge_gaps"]["questions"] == 3
    missing = await asyncio.to_thread(
        runner.invoke, app, ["report", "weekly", "--workspace", "999", "--out", "x"]
    )
    assert missing.exit_code == 2
