"""Service metrics (surveys, retention, value) and assistant metrics on known histories."""

from __future__ import annotations

import pytest

from tests.conftest import Harness
from tests.factories import workspace
from tests.reports.figures import dashboard, figures
from tests.reports.history import History, at

WEEK = ("2026-03-02", "2026-03-08")


async def test_csat_and_nps_arithmetic_in_the_period_of_the_answer(harness: Harness) -> None:
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    for score, handler in ((5, "human"), (4, "ai"), (3, "human"), (1, "ai")):
        thread = await history.thread(at(0, 9))
        await thread.resolve(at(0, 10), handler)
        await thread.received(at(0, 11), str(score), outcome="survey_answer")  # not a message
        await thread.survey(at(0, 11), "csat", score, handler)
    for score in (10, 10, 7, 3):
        thread = await history.thread(at(1, 9))
        await thread.survey(at(1, 11), "nps", score)
    late = await history.thread(at(2, 9))
    await late.survey(at(8, 9), "csat", 5)  # answered the next week

    found = await figures(harness.db, admin.workspace_id, *WEEK)

    assert (found["csat_average"], found["csat_satisfied_rate"]) == (3.25, 50)
    assert found["csat_responses"] == 4
    assert (found["csat_ai_average"], found["csat_human_average"]) == (2.5, 4)
    assert (found["nps"], found["nps_responses"]) == (25, 4)  # 2 promoters, 1 detractor of 4
    assert (found["volume"], found["messages_received"], found["reopened"]) == (9, 9, 0)
    next_week = await figures(harness.db, admin.workspace_id, "2026-03-09", "2026-03-15")
    assert (next_week["csat_average"], next_week["csat_responses"]) == (5, 1)


async def test_retention_churn_and_lifetime_value_from_customer_attributes(
    harness: Harness,
) -> None:
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    customers = [
        {
            "customer_since": "2025-01-01",
            "plan": "pro",
            "monthly_revenue": 100,
            "lifetime_revenue": 1200,
        },
        {
            "customer_since": "2025-06-01",
            "churned_at": "2026-03-15",
            "plan": "basic",
            "monthly_revenue": 50,
            "lifetime_revenue": 450,
        },
        {
            "customer_since": "2025-02-01",
            "churned_at": "2026-02-01",
            "plan": "basic",
            "lifetime_revenue": 300,
        },
        {
            "customer_since": "2026-03-10",
            "plan": "pro",
            "monthly_revenue": 80,
            "lifetime_revenue": 80,
        },
        {
            "customer_since": "2024-01-01",
            "churned_at": None,
            "plan": "pro",
            "monthly_revenue": 200,
            "lifetime_revenue": 5000,
        },
        {"lifetime_revenue": 999},  # not a customer: no customer_since
    ]
    ids = [await history.contact(**attributes) for attributes in customers]

    march = await figures(harness.db, admin.workspace_id, "2026-03-01", "2026-03-31")

    assert (march["customers_start"], march["churned"], march["new_customers"]) == (3, 1, 1)
    assert (march["churn_rate"], march["retention_rate"]) == (33.3, 66.7)
    assert march["lifetime_value_average"] == 1406  # (1200 + 450 + 300 + 80 + 5000) / 5
    monthly_churn = (1 / 3) * 30 / 31
    assert march["lifetime_value_predicted"] == pytest.approx((380 / 3) / monthly_churn, abs=0.01)
    pro = await figures(harness.db, admin.workspace_id, "2026-03-01", "2026-03-31", plan="pro")
    assert (pro["customers_start"], pro["churn_rate"], pro["retention_rate"]) == (2, 0, 100)
    assert pro["lifetime_value_predicted"] is None  # nobody churned: no prediction
    assert pro["lifetime_value_average"] == pytest.approx(6280 / 3, abs=0.01)

    await history.update_contact(ids[0], churned_at="2026-03-20")  # the first one leaves too
    march = await figures(harness.db, admin.workspace_id, "2026-03-01", "2026-03-31")
    assert (march["customers_start"], march["churned"], march["churn_rate"]) == (3, 2, 66.7)


async def test_assistant_resolution_handoffs_pickup_and_repeat_yourself(harness: Harness) -> None:
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    resolved_by_ai = await history.thread(at(0, 9))
    await resolved_by_ai.decided(at(0, 9))
    await resolved_by_ai.reply(at(0, 9, 1), "ai")
    await resolved_by_ai.resolve(at(0, 9, 5), "ai")

    reopened_after_ai = await history.thread(at(0, 9))
    await reopened_after_ai.decided(at(0, 9))
    await reopened_after_ai.reply(at(0, 9, 1), "ai")
    await reopened_after_ai.resolve(at(0, 9, 5), "ai")
    await reopened_after_ai.reopen(at(0, 12))
    await reopened_after_ai.received(at(0, 12), "that did not work")
    await reopened_after_ai.reply(at(0, 12, 30), "agent")
    await reopened_after_ai.resolve(at(0, 13))

    restated = await history.thread(at(0, 9), first_message="Hi")
    await restated.received(at(0, 9), "My invoice for March shows a double charge on my card")
    await restated.decided(at(0, 9, 1), "handoff")
    await restated.handoff(at(0, 9, 5), "customer_requested_human")
    await restated.received(at(0, 9, 6), "I was charged twice on my card for the March invoice")
    await restated.reply(at(0, 9, 15), "agent")
    await restated.resolve(at(0, 10))

    new_request = await history.thread(at(0, 10), first_message="My parcel is late")
    await new_request.decided(at(0, 10), "handoff")
    await new_request.handoff(at(0, 10, 0), "action_failed")
    await new_request.received(at(0, 10, 1), "Thanks, can you also update my shipping address?")
    await new_request.reply(at(0, 10, 30), "agent")
    await new_request.resolve(at(0, 11))

    human_only = await history.thread(at(0, 9))
    await human_only.decided(at(0, 9), "silent")  # the assistant stayed out
    await human_only.reply(at(0, 9, 3), "agent")
    await human_only.resolve(at(0, 10))

    found = await dashboard(harness.db, admin.workspace_id, *WEEK)
    values = {metric["key"]: metric["value"] for metric in found["metrics"]}

    assert values["ai_conversations"] == 4
    assert values["ai_resolution_rate"] == 50
    assert values["ai_reopen_rate"] == 50
    assert values["handoff_rate"] == 50
    assert values["handoff_pickup_median"] == 1200  # 600 and 1800 s
    assert values["repeat_yourself_rate"] == 50
    assert found["handoff_reasons"] == [
        {"reason": "action_failed", "count": 1, "rate": 25},
        {"reason": "customer_requested_human", "count": 1, "rate": 25},
    ]
