"""Support metrics on hand-built histories with known answers (docs/metrics.md)."""

from __future__ import annotations

from onethread.reports import service
from onethread.reports.service import ReportQuery
from onethread.reports.slices import Slices
from tests.conftest import Harness
from tests.factories import workspace
from tests.reports.figures import figures
from tests.reports.history import History, at

WEEK = ("2026-03-02", "2026-03-08")  # Monday to Sunday, MONDAY's week


async def test_first_response_and_first_human_response(harness: Harness) -> None:
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    answered_by_both = await history.thread(at(0, 9))
    await answered_by_both.reply(at(0, 9, 2), "ai")
    await answered_by_both.reply(at(0, 9, 10), "agent")
    by_agent = await history.thread(at(0, 10))
    await by_agent.reply(at(0, 10, 30), "agent")
    await history.thread(at(0, 11))  # never answered
    by_ai = await history.thread(at(0, 12))
    await by_ai.reply(at(0, 12, 1), "agent", private=True)  # a note is no reply
    await by_ai.reply(at(0, 12, 2), "system")  # nor is a survey
    await by_ai.reply(at(0, 12, 5), "ai")

    found = await figures(harness.db, admin.workspace_id, *WEEK)

    # First responses 120, 1800 and 300 s; first human responses 600 and 1800 s.
    assert found["first_response_median"] == 300
    assert found["first_response_p90"] == 1500
    assert found["first_human_response_median"] == 1200
    assert found["first_human_response_p90"] == 1680
    assert found["unanswered"] == 1
    assert (found["volume"], found["messages_received"]) == (4, 4)


async def test_business_hours_count_only_opening_hours(harness: Harness) -> None:
    admin = await workspace(harness)
    hours = [
        {"day": day, "start": "09:00", "end": "17:00"}
        for day in ("mon", "tue", "wed", "thu", "fri")
    ]
    await admin.ok(
        "PATCH",
        "/workspace",
        json={"settings": {"timezone": "Europe/Paris", "business_hours": hours}},
    )
    history = History(harness.db, admin.workspace_id)
    friday = await history.thread(at(4, 15, 30))  # Friday 16:30 in Paris
    await friday.assign(at(4, 15, 45))
    await friday.reply(at(7, 8, 30), "agent")  # Monday 9:30 in Paris
    await friday.resolve(at(7, 9, 0))  # Monday 10:00

    plain = await figures(harness.db, admin.workspace_id, *WEEK)
    business = await figures(harness.db, admin.workspace_id, *WEEK, business_hours=True)

    assert plain["first_response_median"] == 65 * 3600
    assert business["first_response_median"] == 3600
    assert business["first_human_response_median"] == 3600
    # Handled from the assignment (Friday 16:45) to the resolution (Monday 10:00).
    assert plain["handle_time_average"] == 65 * 3600 + 15 * 60
    assert business["handle_time_average"] == 15 * 60 + 3600


async def test_a_reopened_conversation_counts_once_with_two_episodes(harness: Harness) -> None:
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    thread = await history.thread(at(0, 9))
    await thread.assign(at(0, 9, 5))
    await thread.reply(at(0, 9, 10))
    await thread.resolve(at(0, 10), assignee_id=7)
    await thread.reopen(at(1, 9))
    await thread.received(at(1, 9), "it broke again")
    await thread.reply(at(1, 9, 30))
    await thread.resolve(at(1, 11), assignee_id=7)

    found = await figures(harness.db, admin.workspace_id, *WEEK)

    assert (found["volume"], found["reopened"], found["messages_received"]) == (1, 1, 2)
    assert found["fcr_rate"] == 0  # a reopened conversation is never a first-contact resolution
    assert found["first_response_median"] == 600  # the first episode only
    # 9:05 → 10:00 in the first episode; the agent still has it when it reopens: 9:00 → 11:00.
    assert found["handle_time_average"] == 55 * 60 + 2 * 3600

    query = ReportQuery("2026-03-02T00:00:00+00:00", "2026-03-03T12:00:00+00:00", Slices())
    hourly = await service.backlog_series(harness.db, admin.workspace_id, query, "hour")
    open_at = {point["at"][:16]: point["open"] for point in hourly["points"]}
    assert (open_at["2026-03-02T09:00"], open_at["2026-03-02T10:00"]) == (1, 0)
    assert (open_at["2026-03-03T09:00"], open_at["2026-03-03T10:00"]) == (1, 1)
    assert open_at["2026-03-03T11:00"] == 0
    assert hourly["points"][-1] == {"at": "2026-03-03T12:00:00+00:00", "open": 0}
    # A period off the whole hours: its ends are counted exactly, the hours in between too.
    query = ReportQuery("2026-03-02T09:30:00+00:00", "2026-03-03T09:45:00+00:00", Slices())
    hourly = await service.backlog_series(harness.db, admin.workspace_id, query, "hour")
    points = [(point["at"][11:16], point["open"]) for point in hourly["points"]]
    assert points[:2] == [("09:30", 1), ("10:00", 0)]
    assert points[-2:] == [("09:00", 1), ("09:45", 1)]
    assert len(points) == 26


async def test_first_contact_resolution_and_repeat_contacts(harness: Harness) -> None:
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    # X writes again two days later about the same topic: the first was not resolved.
    x = await history.contact()
    x1 = await history.thread(at(0, 9), contact_id=x)
    await x1.topics(at(0, 9, 1), ("billing", "service"))
    await x1.resolve(at(0, 10))
    x2 = await history.thread(at(2, 9), contact_id=x, previous=x1.id)
    await x2.topics(at(2, 9, 1), ("billing", "service"))
    await x2.resolve(at(2, 10))
    # Y writes again the next day about something else: both were first-contact resolutions.
    y = await history.contact()
    y1 = await history.thread(at(0, 9), contact_id=y)
    await y1.topics(at(0, 9, 1), ("billing", "service"))
    await y1.resolve(at(0, 10))
    y2 = await history.thread(at(1, 9), contact_id=y, previous=y1.id)
    await y2.topics(at(1, 9, 1), ("login", "support"))
    await y2.resolve(at(1, 10))
    # Z writes again ten days later: too late to be a repeat.
    z = await history.contact()
    z1 = await history.thread(at(0, 9), contact_id=z)
    await z1.resolve(at(0, 10))
    z2 = await history.thread(at(10, 9), contact_id=z, previous=z1.id)
    await z2.resolve(at(10, 10))

    found = await figures(harness.db, admin.workspace_id, *WEEK)

    assert found["volume"] == 5
    assert found["fcr_rate"] == 80  # x2, y1, y2, z1 of five resolved
    assert (found["repeat_contacts"], found["repeat_contact_rate"]) == (2, 40)  # x2 and y2
    later = await figures(harness.db, admin.workspace_id, "2026-03-09", "2026-03-15")
    assert (later["volume"], later["repeat_contacts"], later["fcr_rate"]) == (1, 0, 100)


async def test_resolution_rate_counts_resolutions_without_escalation(harness: Harness) -> None:
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    plain = await history.thread(at(0, 9))
    await plain.resolve(at(0, 10), "ai")
    handed_off = await history.thread(at(0, 9))
    await handed_off.handoff(at(0, 9, 5))
    await handed_off.resolve(at(0, 10))
    transferred = await history.thread(at(0, 9))
    await transferred.transfer(at(0, 9, 5), team_id=2, previous=1)
    await transferred.resolve(at(0, 10))
    first_team = await history.thread(at(0, 9))
    await first_team.transfer(at(0, 9, 5), team_id=1, previous=None)  # routed, not escalated
    await first_team.resolve(at(0, 10))
    await history.thread(at(0, 9))  # still open

    found = await figures(harness.db, admin.workspace_id, *WEEK)

    assert found["resolution_rate"] == 40
    assert found["backlog_open"] == 1
