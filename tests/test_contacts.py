"""Contacts: search, edits, and merging two records of one person."""

from __future__ import annotations

from tests.conftest import Harness
from tests.factories import inbound, inbox, workspace


async def test_merge_moves_identities_conversations_and_messages(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    messenger = await inbox(admin, "messenger")
    kept = await inbound(
        admin, whatsapp["id"], "15550001234", "my invoice is wrong", sender_name="Dana W"
    )
    await admin.ok("POST", f"/conversations/{kept['conversation_id']}/resolve")
    await admin.ok("PATCH", "/workspace", json={"settings": {"reopen_window_hours": 0}})
    newer = await inbound(admin, whatsapp["id"], "15550001234", "and the export is broken")
    folded = await inbound(
        admin, messenger["id"], "psid-777", "it's Dana on Messenger", sender_name="Dana Whitfield"
    )
    await admin.ok(
        "PATCH",
        f"/contacts/{folded['contact_id']}",
        json={"email": "dana@example.com", "attributes": {"plan": "Business"}},
    )

    merged = await admin.ok(
        "POST", f"/contacts/{kept['contact_id']}/merge", json={"source_id": folded["contact_id"]}
    )

    assert {(i["channel"], i["external_id"]) for i in merged["identities"]} == {
        ("whatsapp", "15550001234"),
        ("messenger", "psid-777"),
    }
    assert merged["email"] == "dana@example.com"
    assert merged["attributes"] == {"plan": "Business"}
    source = await admin.ok("GET", f"/contacts/{folded['contact_id']}")
    assert source["merged_into_id"] == kept["contact_id"]
    assert source["identities"] == []
    # both had an open thread: the source's messages join the kept open thread
    timeline = await admin.ok("GET", f"/conversations/{newer['conversation_id']}/messages")
    assert [m["text"] for m in timeline] == ["and the export is broken", "it's Dana on Messenger"]
    listed = await admin.ok("GET", "/conversations", params={"contact": kept["contact_id"]})
    assert {c["id"] for c in listed["items"]} == {kept["conversation_id"], newer["conversation_id"]}
    # the next Messenger message lands in the merged contact's thread
    later = await inbound(admin, messenger["id"], "psid-777", "any news?")
    assert (later["contact_id"], later["conversation_id"]) == (
        kept["contact_id"],
        newer["conversation_id"],
    )
    contacts = await admin.ok("GET", "/contacts")
    assert folded["contact_id"] not in {c["id"] for c in contacts["items"]}


async def test_merge_refuses_itself_and_an_already_merged_contact(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    one = await inbound(admin, whatsapp["id"], "15550002001", "one")
    two = await inbound(admin, whatsapp["id"], "15550002002", "two")
    itself = await admin.post(
        f"/contacts/{one['contact_id']}/merge", json={"source_id": one["contact_id"]}
    )
    assert itself.status_code == 400
    await admin.ok(
        "POST", f"/contacts/{one['contact_id']}/merge", json={"source_id": two["contact_id"]}
    )
    again = await admin.post(
        f"/contacts/{one['contact_id']}/merge", json={"source_id": two["contact_id"]}
    )
    assert again.status_code == 409


async def test_search_finds_by_name_phone_email_and_channel_id(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    first = await inbound(
        admin,
        whatsapp["id"],
        "15550003001",
        "hi",
        sender_name="Zoë Park",
        sender_phone="+1 555 000 3001",
        verified=True,
    )
    await inbound(admin, whatsapp["id"], "15550003002", "hi", sender_name="Someone Else")
    await admin.ok("PATCH", f"/contacts/{first['contact_id']}", json={"email": "zoe@park.dev"})
    for query in ("Zoë", "park.dev", "5550003001", "+15550003001"):
        found = await admin.ok("GET", "/contacts", params={"q": query})
        assert [c["id"] for c in found["items"]] == [first["contact_id"]], query


async def test_contact_edits_validate_and_attributes_merge(harness: Harness) -> None:
    admin = await workspace(harness)
    created = await admin.ok(
        "POST",
        "/contacts",
        201,
        json={
            "name": "Ana",
            "phone": "+34 600 000 000",
            "attributes": {"plan": "Team", "vip": True},
        },
    )
    assert created["phone"] == "+34600000000"
    bad = await admin.patch(f"/contacts/{created['id']}", json={"email": "not-an-email"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"] == {"field": "email"}
    updated = await admin.ok(
        "PATCH",
        f"/contacts/{created['id']}",
        json={"attributes": {"vip": None, "lifetime_revenue": 1200}},
    )
    assert updated["attributes"] == {"plan": "Team", "lifetime_revenue": 1200}


async def test_pages_of_contacts_do_not_overlap(harness: Harness) -> None:
    admin = await workspace(harness)
    for number in range(7):
        await admin.ok("POST", "/contacts", 201, json={"name": f"Person {number}"})
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = await admin.ok("GET", "/contacts", params=params)
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7


async def test_a_value_the_database_refuses_is_a_400_and_nothing_is_stored(
    harness: Harness,
) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    response = await admin.post(
        f"/inboxes/{whatsapp['id']}/inbound",
        json={"sender_id": "15550009001", "text": "nul \u0000 here"},
    )
    if harness.db.is_sqlite:  # SQLite stores NUL characters as they are
        assert response.status_code == 201
        return
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert (await admin.ok("GET", "/contacts"))["items"] == []
