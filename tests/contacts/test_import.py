"""The CSV import through the API and the shared code: good rows stored, every bad row
reported with its line and reason, one event per changed contact, re-import idempotent."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from onethread.contacts import importing
from onethread.contacts.models import Contact, ContactIdentity
from onethread.db.types import utcnow
from onethread.events.models import Event
from tests.conftest import Harness
from tests.factories import Api, agent, inbound, inbox, workspace

HEADER = (
    "id,email,phone,name,plan,customer_since,monthly_revenue,lifetime_revenue,"
    "churned_at,vip,segment"
)


async def contact(admin: Api, **body: Any) -> int:
    created = await admin.ok("POST", "/contacts", status=201, json=body)
    return int(created["id"])


async def upload(admin: Api, text: str, **params: Any) -> dict[str, Any]:
    report: dict[str, Any] = await admin.ok(
        "POST",
        "/contacts/import",
        files=[("file", ("contacts.csv", text.encode(), "text/csv"))],
        params=params,
    )
    return report


async def events(harness: Harness, workspace_id: int) -> list[tuple[str, int | None, Any]]:
    async with harness.db.read_session() as session:
        rows = await session.execute(
            select(Event.type, Event.contact_id, Event.data)
            .where(Event.workspace_id == workspace_id, Event.type.like("contact.%"))
            .order_by(Event.id)
        )
        return [tuple(row) for row in rows]


async def attributes_of(harness: Harness, contact_id: int) -> dict[str, Any]:
    async with harness.db.read_session() as session:
        found = await session.get(Contact, contact_id)
        assert found is not None
        return dict(found.attributes)


@pytest.mark.parametrize("batch_rows", [1000, 2])
async def test_good_rows_are_written_and_every_bad_row_is_reported(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    monkeypatch.setattr(importing, "BATCH_ROWS", batch_rows)
    admin = await workspace(harness)
    other = await workspace(harness)
    foreign = await contact(other, name="Not yours", email="x@example.com")
    dana = await contact(
        admin, name="Dana", email="dana@example.com", attributes={"customer_since": "2023-01-15"}
    )
    whatsapp = await inbox(admin, "whatsapp")
    bob = (
        await inbound(
            admin, whatsapp["id"], "15550001234", "hi", sender_phone="15550001234", verified=True
        )
    )["contact_id"]
    await contact(admin, name="Twin 1", email="twin@example.com")
    await contact(admin, name="Twin 2", email="twin@example.com")
    eve = await contact(admin, name="Eve", email="eve@example.com")
    fay = await contact(admin, name="Fay", phone="+44 7700 900123")
    kept = await contact(admin, name="Kept")
    gone = await contact(admin, name="Gone")
    await admin.ok("POST", f"/contacts/{kept}/merge", json={"source_id": gone})
    await admin.ok("PATCH", f"/contacts/{eve}", json={"attributes": {"plan": "Team"}})
    before = await events(harness, admin.workspace_id)

    csv_text = "\n".join(
        [
            HEADER,  # line 1
            ",dana@example.com,,,Business,,249.00,7470,,yes,enterprise",  # 2: update Dana
            ",,+1 (555) 000-1234,Bob,Team,2024-03-01,49,588,,no,",  # 3: update Bob by phone
            ",new@example.com,,New Person,Starter,2026-11-01,0,0,,,",  # 4: create
            ",bad@example.com,,,,2026-02-30,,,,,",  # 5
            ",neg@example.com,,,,,-10,,,,",  # 6
            f"{foreign},,,,Team,,,,,,",  # 7: another workspace's contact
            ",twin@example.com,,,Team,,,,,,",  # 8
            ",DANA@example.com,,,Team,,,,,,",  # 9: Dana again
            f"{gone},,,,Team,,,,,,",  # 10
            ",,,Nobody,Team,,,,,,",  # 11
            ",eve@example.com,+447700900123,,,,,,,,",  # 12: Eve's email, Fay's phone
            ",late@example.com,,,,2025-01-01,,,2024-12-31,,",  # 13
            ',multi@example.com,,"Line one',  # 14: a quoted name over two lines
            'line two",,,,,,,',  # 15
            ",short@example.com,,",  # 16
            ",vip@example.com,,,,,,,,maybe,",  # 17
            "",  # 18: blank lines are skipped
            ",new@example.com,,,Team,,,,,,",  # 19: the contact line 4 creates
            ",+15550009999,,,,,,,,,",  # 20: a phone in the email column
            "abc,,,,,,,,,,",  # 21
            "99999999999999999999,,,,,,,,,,",  # 22: beyond any id
        ]
    )
    report = await upload(admin, csv_text + "\n")

    rejected = {row["line"]: row["reason"] for row in report["rejected"]}
    assert [row["line"] for row in report["rejected"]] == sorted(rejected)
    assert rejected == {
        5: "customer_since: 2026-02-30 is not a date that exists",
        6: "monthly_revenue: -10 is negative",
        7: f"unknown contact id {foreign}",
        8: rejected[8],
        9: "duplicate: line 2 is the same contact",
        10: f"contact {gone} was merged into contact {kept}",
        11: "no id, email or phone to match a contact on",
        12: f"ambiguous: email eve@example.com matches contact {eve}; "
        f"phone +447700900123 matches contact {fay}",
        13: "churned_at 2024-12-31 is before customer_since 2025-01-01",
        16: "4 fields where the header has 11",
        17: "vip: 'maybe' is not true or false",
        19: "duplicate: line 4 is the same contact",
        20: "email: '+15550009999' is not an email address",
        21: "id: 'abc' is not a contact id",
        22: "id: '99999999999999999999' is not a contact id",
    }
    assert rejected[8].startswith("ambiguous: email twin@example.com matches contacts ")
    assert (report["rows"], report["created"], report["updated"], report["unchanged"]) == (
        19,
        2,
        2,
        0,
    )
    assert report["dry_run"] is False

    assert await attributes_of(harness, dana) == {
        "customer_since": "2023-01-15",
        "plan": "Business",
        "monthly_revenue": 249,
        "lifetime_revenue": 7470,
        "vip": True,
        "segment": "enterprise",
    }
    assert await attributes_of(harness, bob) == {
        "plan": "Team",
        "customer_since": "2024-03-01",
        "monthly_revenue": 49,
        "lifetime_revenue": 588,
        "vip": False,
    }
    bob_now = await admin.ok("GET", f"/contacts/{bob}")
    assert (bob_now["name"], bob_now["phone"]) == ("Bob", "+15550001234")
    created = await admin.ok("GET", "/contacts", params={"q": "example.com"})
    by_email = {c["email"]: c for c in created["items"]}
    assert by_email["new@example.com"]["name"] == "New Person"
    assert by_email["new@example.com"]["attributes"] == {
        "plan": "Starter",
        "customer_since": "2026-11-01",
        "monthly_revenue": 0,
        "lifetime_revenue": 0,
    }
    assert by_email["multi@example.com"]["name"] == "Line one\nline two"

    written = (await events(harness, admin.workspace_id))[len(before) :]
    updated = [(cid, data) for kind, cid, data in written if kind == "contact.updated"]
    assert sorted(updated, key=lambda e: e[0] or 0) == [
        (
            dana,
            {
                "changed": ["attributes"],
                "attributes": ["lifetime_revenue", "monthly_revenue", "plan", "segment", "vip"],
                "source": "import",
            },
        ),
        (
            bob,
            {
                "changed": ["attributes", "name"],
                "attributes": [
                    "customer_since",
                    "lifetime_revenue",
                    "monthly_revenue",
                    "plan",
                    "vip",
                ],
                "source": "import",
            },
        ),
    ]
    created_events = [data for kind, _, data in written if kind == "contact.created"]
    assert sorted(e["name"] for e in created_events) == ["Line one\nline two", "New Person"]
    assert all(e["source"] == "import" for e in created_events)

    # the same file again: nothing changes, no event, the same rejections
    again = await upload(admin, csv_text)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)
    assert again["rejected"] == report["rejected"]
    assert len(await events(harness, admin.workspace_id)) == len(before) + len(written)


async def test_null_clears_empty_keeps_and_custom_columns_are_text(harness: Harness) -> None:
    admin = await workspace(harness)
    dana = await contact(
        admin,
        name="Dana",
        email="dana@example.com",
        phone="+15550001000",
        attributes={"plan": "Team", "churned_at": "2026-01-31", "tier": "gold"},
    )
    report = await upload(
        admin,
        f"ID,Email,Plan,Churned_At,tier,seats\n{dana},,,null,NULL,12\n",
    )
    assert report["updated"] == 1, report
    assert await attributes_of(harness, dana) == {"plan": "Team", "seats": "12"}
    cleared = await upload(admin, f"id,phone,name\n{dana},null,\n")
    assert cleared["updated"] == 1
    found = await admin.ok("GET", f"/contacts/{dana}")
    assert (found["phone"], found["name"]) == (None, "Dana")


async def test_a_verified_identity_matches_like_a_linked_sender(harness: Harness) -> None:
    admin = await workspace(harness)
    owner = await contact(admin, name="Signed in on the widget")
    async with harness.db.session() as session:
        for email, verified in (("sam@example.com", True), ("typed@example.com", False)):
            session.add(
                ContactIdentity(
                    workspace_id=admin.workspace_id,
                    contact_id=owner,
                    channel="webchat",
                    external_id=email,
                    email=email,
                    verified=verified,
                    details={},
                    created_at=utcnow(),
                )
            )
    report = await upload(
        admin, "email,plan\nsam@example.com,Business\ntyped@example.com,Starter\n"
    )
    assert (report["updated"], report["created"]) == (1, 1), report
    assert (await attributes_of(harness, owner))["plan"] == "Business"


async def test_dry_run_reports_and_writes_nothing(harness: Harness) -> None:
    admin = await workspace(harness)
    dana = await contact(admin, email="dana@example.com")
    before = await events(harness, admin.workspace_id)
    report = await upload(
        admin,
        "email,plan,monthly_revenue\ndana@example.com,Team,10\nnew@example.com,Team,x\n"
        "other@example.com,Team,5\n",
        dry_run=True,
    )
    assert report["dry_run"] is True
    assert (report["updated"], report["created"]) == (1, 1)
    assert report["rejected"] == [{"line": 3, "reason": "monthly_revenue: 'x' is not an amount"}]
    assert await attributes_of(harness, dana) == {}
    assert await events(harness, admin.workspace_id) == before
    async with harness.db.read_session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(Contact.workspace_id == admin.workspace_id)
        )
    assert count == 1


async def test_unusable_files_are_refused_whole_and_agents_cannot_import(
    harness: Harness,
) -> None:
    admin = await workspace(harness)
    for text, message in (
        (b"", "empty"),
        (b"name,plan\nDana,Team\n", "needs an id, email or phone column"),
        (b"email,plan,Plan\n", "appears twice"),
        (b"email,\n", "column 2"),
        ("email\ncaf\u00e9@example.com\n".encode("latin-1"), "not UTF-8"),
    ):
        response = await admin.post(
            "/contacts/import", files=[("file", ("contacts.csv", text, "text/csv"))]
        )
        assert response.status_code == 400, text
        assert message in response.json()["error"]["message"]
    bom = await upload(admin, "\ufeffemail,plan\ndana@example.com,Team\n")
    assert bom["created"] == 1
    plain = await agent(admin)
    refused = await plain.post(
        "/contacts/import", files=[("file", ("c.csv", b"email\na@example.com\n", "text/csv"))]
    )
    assert refused.status_code == 403


async def test_the_shared_code_reports_progress_in_batches(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "BATCH_ROWS", 4)
    admin = await workspace(harness)
    lines = ["email,lifetime_revenue"] + [f"c{n}@example.com,{n}.50" for n in range(10)]
    seen: list[tuple[int, int]] = []
    report = await importing.import_contacts(
        harness.db,
        admin.workspace_id,
        "\r\n".join(lines),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(4, 10), (8, 10), (10, 10)]
    assert (report.created, report.rejected) == (10, [])
    async with harness.db.read_session() as session:
        stored = await session.scalar(
            select(Contact.attributes).where(
                Contact.workspace_id == admin.workspace_id, Contact.email == "c3@example.com"
            )
        )
    assert stored == {"lifetime_revenue": 3.5}
