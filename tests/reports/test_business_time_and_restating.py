"""The pure parts of the projection: business seconds, the repeat-yourself test, percentiles."""

from __future__ import annotations

from datetime import UTC, datetime

from onethread.reports.business_time import BusinessClock
from onethread.reports.restating import content_words, restates
from onethread.reports.tally import percentile
from onethread.workspaces.schemas import WorkspaceSettings

WEEKDAYS_9_TO_5 = WorkspaceSettings.model_validate(
    {
        "timezone": "Europe/Paris",
        "business_hours": [
            {"day": day, "start": "09:00", "end": "17:00"}
            for day in ("mon", "tue", "wed", "thu", "fri")
        ],
    }
)


def _epoch(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


def test_friday_afternoon_to_monday_morning_is_one_business_hour() -> None:
    clock = BusinessClock(WEEKDAYS_9_TO_5)
    # Friday 16:30 and Monday 9:30 in Paris (UTC+1 in March before the change).
    assert clock.seconds(_epoch(2026, 3, 6, 15, 30), _epoch(2026, 3, 9, 8, 30)) == 3600


def test_business_hours_follow_the_local_clock_across_a_dst_change() -> None:
    clock = BusinessClock(WEEKDAYS_9_TO_5)
    # Friday 16:00 (UTC+1) to Monday 10:00 (UTC+2, summer time began on the Sunday).
    assert clock.seconds(_epoch(2026, 3, 27, 15, 0), _epoch(2026, 3, 30, 8, 0)) == 7200


def test_a_weekend_counts_nothing_and_no_hours_count_every_second() -> None:
    clock = BusinessClock(WEEKDAYS_9_TO_5)
    assert clock.seconds(_epoch(2026, 3, 7, 10), _epoch(2026, 3, 8, 20)) == 0
    always = BusinessClock(WorkspaceSettings())
    assert always.seconds(_epoch(2026, 3, 7, 10), _epoch(2026, 3, 8, 20)) == 34 * 3600


def test_a_restated_message_shares_half_of_its_content_words() -> None:
    before = ["Hi", "My invoice for March shows a double charge on my card"]
    assert content_words("I was charged twice on my card for the March invoice") == {
        "charged",
        "twice",
        "card",
        "march",
        "invoice",
    }
    assert restates("I was charged twice on my card for the March invoice", before)
    assert restates("Order 123456 never arrived", ["where is order 123456? it never came"])


def test_a_new_request_or_a_short_answer_is_not_a_restatement() -> None:
    before = ["My invoice for March shows a double charge on my card"]
    assert not restates("Thanks, can you also update my shipping address?", before)
    assert not restates("yes, the invoice", before)  # fewer than three content words


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([1800, 120, 300], 0.5) == 300
    assert percentile([1800, 120, 300], 0.9) == 1500
    assert percentile([600, 1800], 0.5) == 1200
    assert percentile([], 0.5) is None
