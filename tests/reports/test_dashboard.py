"""The dashboard as a whole: slices, the previous period, trends, warnings, tenancy, the API."""

from __future__ import annotations

import csv
import io

from tests.conftest import Harness
from tests.factories import agent, inbound, inbox, workspace
from tests.reports.figures import dashboard, figures
from tests.reports.history import History, at

WEEK = ("2026-03-02", "2026-03-08")
PARAMS = {"from": WEEK[0], "to": WEEK[1]}


async def test_every_slice_restricts_the_conversations(harness: Harness) -> None:
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    billing = await history.thread(at(0, 9), channel="whatsapp", inbox_id=501)
    await billing.topics(at(0, 9, 1), ("billing", "service"), language="fr")
    await billing.handoff(at(0, 9, 2))
    await billing.transfer(at(0, 9, 3), team_id=11, previous=None)
    await billing.assign(at(0, 9, 4), agent_id=21)
    await billing.resolve(at(0, 10), "human", assignee_id=21, team_id=11)
    login = await history.thread(at(0, 9), channel="webchat", inbox_id=502)
    await login.topics(at(0, 9, 1), ("login", "support"), ("billing", "service"), language="en")
    await login.resolve(at(0, 10), "ai")
    await history.thread(at(0, 9), channel="sms", inbox_id=503)  # open, with the assistant

    expectations = [
        ({}, 3),
        ({"channel": "whatsapp"}, 1),
        ({"inbox_id": 502}, 1),
        ({"team_id": 11}, 1),
        ({"agent_id": 21}, 1),
        ({"topic": "billing"}, 1),  # a conversation's first topic
        ({"topic": "login"}, 1),
        ({"domain": "support"}, 1),
        ({"language": "fr"}, 1),
        ({"handler": "human"}, 1),
        ({"handler": "ai"}, 2),
        ({"channel": "whatsapp", "handler": "ai"}, 0),
    ]
    for slices, expected in expectations:
        found = await figures(harness.db, admin.workspace_id, *WEEK, **slices)
        assert found["volume"] == expected, slices


async def test_support_better_and_service_worse_is_a_warning(harness: Harness) -> None:
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    before = await history.thread(at(-7, 9))  # the previous week
    await before.reply(at(-7, 10))
    await before.resolve(at(-7, 11))
    await before.survey(at(-7, 12), "csat", 5)
    now = await history.thread(at(0, 9))
    await now.reply(at(0, 9, 1))
    await now.resolve(at(0, 11))
    await now.survey(at(0, 12), "csat", 2)

    found = await dashboard(harness.db, admin.workspace_id, *WEEK)

    assert found["previous"] == {
        "from": "2026-02-23T00:00:00+00:00",
        "to": "2026-03-02T00:00:00+00:00",
    }
    metrics = {metric["key"]: metric for metric in found["metrics"]}
    response = metrics["first_response_median"]
    assert (response["value"], response["previous"], response["verdict"]) == (60, 3600, "better")
    assert response["better"] == "lower"
    csat = metrics["csat_average"]
    assert (csat["value"], csat["previous"], csat["verdict"]) == (2, 5, "worse")
    assert metrics["volume"]["verdict"] is None  # neither direction is better
    assert metrics["fcr_rate"]["verdict"] == "same"
    improved = {(w["improved"], w["worsened"]) for w in found["warnings"]}
    assert ("first_response_median", "csat_average") in improved
    assert all(w["text"] for w in found["warnings"])


async def test_trends_have_one_value_per_day(harness: Harness) -> None:
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    for day, minutes in ((0, 10), (0, 20), (2, 5)):
        thread = await history.thread(at(day, 9))
        await thread.reply(at(day, 9, minutes))
        await thread.resolve(at(day, 10))

    found = await dashboard(harness.db, admin.workspace_id, *WEEK)

    trends = found["trends"]
    assert len(trends["buckets"]) == 7
    assert trends["buckets"][0] == "2026-03-02T00:00:00+00:00"
    assert trends["series"]["volume"] == [2, 0, 1, 0, 0, 0, 0]
    assert trends["series"]["first_response_median"][:3] == [900, None, 300]
    assert trends["series"]["fcr_rate"][:3] == [100, None, 100]
    assert {"csat_average", "ai_resolution_rate"} <= set(trends["series"])
    assert [point["open"] for point in found["backlog"]] == [0] * 8


async def test_another_workspace_is_never_counted(harness: Harness) -> None:
    admin = await workspace(harness)
    other = await workspace(harness)
    mine = History(harness.db, admin.workspace_id)
    theirs = History(harness.db, other.workspace_id)
    thread = await mine.thread(at(0, 9))
    await thread.survey(at(0, 10), "csat", 5)
    await mine.contact(customer_since="2025-01-01")
    for _ in range(3):
        busy = await theirs.thread(at(0, 9), inbox_id=777)
        await busy.survey(at(0, 10), "csat", 1)
        await theirs.contact(customer_since="2025-01-01", churned_at="2026-03-03")

    found = await figures(harness.db, admin.workspace_id, *WEEK)

    assert (found["volume"], found["csat_average"], found["backlog_open"]) == (1, 5, 1)
    assert (found["customers_start"], found["churned"]) == (1, 0)
    assert (await figures(harness.db, admin.workspace_id, *WEEK, inbox_id=777))["volume"] == 0
    response = await admin.ok("GET", "/reports/dashboard", params={**PARAMS, "inbox_id": 777})
    assert {m["key"]: m["value"] for m in response["metrics"]}["volume"] == 0


async def test_the_api_answers_any_agent_in_json_and_csv(harness: Harness) -> None:
    admin = await workspace(harness)
    plain = await agent(admin)
    history = History(harness.db, admin.workspace_id)
    thread = await history.thread(at(0, 9))
    await thread.reply(at(0, 9, 5))

    body = await plain.ok("GET", "/reports/dashboard", params={**PARAMS, "business_hours": True})
    assert set(body) >= {"period", "previous", "metrics", "trends", "backlog", "warnings"}
    assert body["period"]["from"] == "2026-03-02T00:00:00+00:00"
    metric = next(m for m in body["metrics"] if m["key"] == "first_response_median")
    assert metric == {
        "key": "first_response_median",
        "side": "support",
        "label": "First response time (median)",
        "unit": "seconds",
        "value": 300,
        "previous": None,
        "better": "lower",
        "verdict": None,
        "headline": True,
    }
    assert {m["side"] for m in body["metrics"]} == {"support", "service", "assistant"}

    response = await plain.get("/reports/dashboard.csv", params=PARAMS)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["key", "label", "side", "unit", "value", "previous", "verdict"]
    assert {r["key"]: r["value"] for r in rows}["first_response_median"] == "300.0"
    assert len(rows) == len(body["metrics"])

    backlog = await plain.ok("GET", "/reports/backlog", params={**PARAMS, "step": "day"})
    assert [p["open"] for p in backlog["points"]] == [0, 1, 1, 1, 1, 1, 1, 1]
    elsewhere = await plain.ok(
        "GET", "/reports/backlog", params={**PARAMS, "channel": "twilio_sms"}
    )
    assert [p["open"] for p in elsewhere["points"]] == [0] * 8


async def test_bad_dates_and_slices_are_a_400_with_a_reason(harness: Harness) -> None:
    admin = await workspace(harness)
    bad = [
        ({"from": "yesterday"}, "'from' is not an ISO date"),
        ({"from": "2026-03-08", "to": "2026-03-01"}, "'to' must be after 'from'"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "at most 366 days"),
        ({"handler": "robot"}, "handler"),
        ({"channel": "fax"}, "channel"),
        ({"domain": "sales"}, "domain"),
        ({"inbox_id": "0"}, "inbox_id"),
        ({"business_hours": "maybe"}, "business_hours"),
    ]
    for params, reason in bad:
        for path in ("/reports/dashboard", "/reports/dashboard.csv", "/reports/backlog"):
            response = await admin.get(path, params=params)
            assert response.status_code == 400, (path, params, response.text)
            assert reason in response.json()["error"]["message"], (params, response.text)
    response = await admin.get("/reports/backlog", params={"step": "minute"})
    assert response.status_code == 400
    assert "step" in response.json()["error"]["message"]


async def test_conversations_worked_through_the_api_are_counted_live(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    first = await inbound(admin, whatsapp["id"], "15550001", "my invoice is wrong")
    conversation = first["conversation_id"]
    await admin.ok("POST", f"/conversations/{conversation}/reply", 201, json={"text": "On it"})
    await admin.ok("POST", f"/conversations/{conversation}/resolve")
    await inbound(admin, whatsapp["id"], "15550002", "hello?")  # still open

    body = await admin.ok("GET", "/reports/dashboard")  # the default period: the last 7 days
    values = {metric["key"]: metric["value"] for metric in body["metrics"]}
    assert (values["volume"], values["messages_received"], values["backlog_open"]) == (2, 2, 1)
    assert values["unanswered"] == 1
    assert values["first_human_response_median"] is not None
    assert (values["fcr_rate"], values["resolution_rate"]) == (100, 0)  # an agent took it over
    humans = await admin.ok("GET", "/reports/dashboard", params={"handler": "human"})
    assert {m["key"]: m["value"] for m in humans["metrics"]}["volume"] == 1

    await admin.ok("POST", f"/conversations/{conversation}/reopen")
    again = await admin.ok("GET", "/reports/dashboard")
    values = {metric["key"]: metric["value"] for metric in again["metrics"]}
    assert (values["reopened"], values["backlog_open"], values["fcr_rate"]) == (1, 2, None)
