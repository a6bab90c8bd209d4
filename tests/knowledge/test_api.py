"""The knowledge API on each database: CRUD, uploads, incremental re-embedding, tenancy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onethread.events.models import Event
from onethread.knowledge.models import Chunk
from tests.conftest import Harness
from tests.factories import Api, agent, snapshot, workspace
from tests.knowledge.samples import EXPORT_HTML, NOTES_TXT, REFUND_MD, two_page_pdf

ARTICLES = "/knowledge/articles"


async def _create(api: Api, body: str = REFUND_MD, **extra: Any) -> dict[str, Any]:
    created: dict[str, Any] = await api.ok("POST", ARTICLES, 201, json={"body": body, **extra})
    return created


async def _embeddings(harness: Harness, article_id: int) -> dict[int, bytes | None]:
    async with harness.db.read_session() as session:
        rows = await session.execute(
            select(Chunk.id, Chunk.embedding).where(Chunk.article_id == article_id)
        )
        return dict(rows.all())


async def _events(harness: Harness, workspace_id: int, prefix: str) -> list[Event]:
    async with harness.db.read_session() as session:
        rows = await session.scalars(
            select(Event)
            .where(Event.workspace_id == workspace_id, Event.type.startswith(prefix))
            .order_by(Event.id)
        )
        return list(rows.all())


async def test_create_chunks_by_heading_and_embeds_every_chunk(harness: Harness) -> None:
    admin = await workspace(harness)
    created = await _create(admin, source_key="policies/refunds.md")
    assert (created["title"], created["language"], created["format"]) == (
        "Refund policy",
        "en",
        "markdown",
    )
    assert [c["heading"] for c in created["chunks"]] == ["", "Monthly plans", "Annual plans"]
    assert [c["key"] for c in created["chunks"]] == [f"policies/refunds.md#{n}" for n in range(3)]
    assert all(c["encoder"] for c in created["chunks"])
    assert "14 days" in created["chunks"][1]["text"]
    assert created["chunk_count"] == 3
    fetched = await admin.ok("GET", f"{ARTICLES}/{created['id']}")
    assert fetched == created
    [event] = await _events(harness, admin.workspace_id, "knowledge.")
    assert (event.type, event.data["id"], event.data["chunks"]) == (
        "knowledge.article_created",
        created["id"],
        3,
    )


async def test_language_comes_from_the_body_the_field_or_detection(harness: Harness) -> None:
    admin = await workspace(harness)
    html = await _create(admin, EXPORT_HTML, format="html")
    assert (html["title"], html["language"]) == ("Exporter vos données", "fr")
    assert "tracking" not in html["body"]
    assert "Accueil" not in html["body"]
    detected = await _create(
        admin, "# Restablecer la contraseña\n\nPuedes restablecer tu contraseña desde el enlace."
    )
    assert detected["language"] == "es"
    forced = await _create(admin, "# Hello\n\nA short note.", language="de-AT")
    assert forced["language"] == "de"


async def test_list_filters_by_language_and_text(harness: Harness) -> None:
    admin = await workspace(harness)
    refund = await _create(admin)
    export = await _create(admin, EXPORT_HTML, format="html")
    page = await admin.ok("GET", ARTICLES)
    assert [a["id"] for a in page["items"]] == [refund["id"], export["id"]]
    assert page["next_cursor"] is None
    french = await admin.ok("GET", ARTICLES, params={"language": "fr"})
    assert [a["id"] for a in french["items"]] == [export["id"]]
    found = await admin.ok("GET", ARTICLES, params={"q": "PRO RATA"})
    assert [a["id"] for a in found["items"]] == [refund["id"]]
    assert (await admin.ok("GET", ARTICLES, params={"q": "100%"}))["items"] == []
    first = await admin.ok("GET", ARTICLES, params={"limit": 1})
    rest = await admin.ok("GET", ARTICLES, params={"cursor": first["next_cursor"]})
    assert [a["id"] for a in first["items"] + rest["items"]] == [refund["id"], export["id"]]


async def test_an_update_re_embeds_only_the_chunks_that_changed(harness: Harness) -> None:
    admin = await workspace(harness)
    created = await _create(admin)
    before = await _embeddings(harness, created["id"])
    edited = REFUND_MD.replace("minus a 10 % fee", "minus a 12 % fee")
    updated = await admin.ok("PATCH", f"{ARTICLES}/{created['id']}", json={"body": edited})
    after = await _embeddings(harness, created["id"])
    kept = [c["id"] for c in created["chunks"][:2]]
    assert [c["id"] for c in updated["chunks"][:2]] == kept
    assert {i: after[i] for i in kept} == {i: before[i] for i in kept}  # the very same bytes
    changed = updated["chunks"][2]
    assert changed["id"] not in before
    assert after[changed["id"]] is not None
    assert "12 %" in changed["text"]
    assert updated["revision"] == created["revision"] + 1
    event = (await _events(harness, admin.workspace_id, "knowledge.article_updated"))[-1]
    assert (event.data["chunks_kept"], event.data["chunks_added"], event.data["embedded"]) == (
        2,
        1,
        1,
    )
    assert event.data["changed"] == ["body"]


async def test_a_new_title_alone_re_embeds_everything_and_the_same_body_nothing(
    harness: Harness,
) -> None:
    admin = await workspace(harness)
    created = await _create(admin)
    path = f"{ARTICLES}/{created['id']}"
    same = await admin.ok("PATCH", path, json={"body": REFUND_MD})
    assert same["revision"] == created["revision"]
    retitled = await admin.ok("PATCH", path, json={"title": "Refunds"})
    assert retitled["title"] == "Refunds"
    assert [c["text"] for c in retitled["chunks"]] == [c["text"] for c in created["chunks"]]
    assert not {c["id"] for c in retitled["chunks"]} & {c["id"] for c in created["chunks"]}
    moved = await admin.ok("PATCH", path, json={"language": "fr", "source_key": "refunds-fr"})
    assert (moved["language"], moved["source_key"]) == ("fr", "refunds-fr")
    assert [c["id"] for c in moved["chunks"]] == [c["id"] for c in retitled["chunks"]]


async def test_delete_removes_the_article_and_its_chunks(harness: Harness) -> None:
    admin = await workspace(harness)
    created = await _create(admin)
    await admin.ok("DELETE", f"{ARTICLES}/{created['id']}", 204)
    assert (await admin.get(f"{ARTICLES}/{created['id']}")).status_code == 404
    assert await _embeddings(harness, created["id"]) == {}
    types = [e.type for e in await _events(harness, admin.workspace_id, "knowledge.")]
    assert types == ["knowledge.article_created", "knowledge.article_deleted"]


async def test_a_taken_source_key_is_a_conflict(harness: Harness) -> None:
    admin = await workspace(harness)
    await _create(admin, source_key="a.md")
    other = await _create(admin, source_key="b.md")
    response = await admin.post(ARTICLES, json={"body": "# X\n\ny", "source_key": "a.md"})
    assert response.status_code == 409, response.text
    response = await admin.patch(f"{ARTICLES}/{other['id']}", json={"source_key": "a.md"})
    assert response.status_code == 409, response.text


def _files(*named: tuple[str, bytes | str]) -> list[tuple[str, tuple[str, bytes]]]:
    return [
        ("files", (name, data.encode() if isinstance(data, str) else data)) for name, data in named
    ]


async def test_upload_reads_every_format_and_updates_in_place(harness: Harness) -> None:
    admin = await workspace(harness)
    files = _files(
        ("refunds.md", REFUND_MD),
        ("export.html", EXPORT_HTML),
        ("status.txt", NOTES_TXT),
        ("api.pdf", two_page_pdf()),
    )
    first = await admin.ok("POST", "/knowledge/upload", files=files)
    assert (first["created"], first["updated"], first["unchanged"]) == (4, 0, 0)
    by_key = {a["article"]["source_key"]: a["article"] for a in first["articles"]}
    assert by_key["api.pdf"]["format"] == "pdf"
    assert by_key["api.pdf"]["title"] == "API guide"
    assert by_key["status.txt"]["title"] == "Status page"
    assert by_key["export.html"]["language"] == "fr"
    pdf = await admin.ok("GET", f"{ARTICLES}/{by_key['api.pdf']['id']}")
    assert [c["heading"] for c in pdf["chunks"]] == ["Page 1", "Page 2"]

    edited = NOTES_TXT.replace("every incident", "every incident and maintenance window")
    again = await admin.ok(
        "POST",
        "/knowledge/upload",
        files=_files(("refunds.md", REFUND_MD), ("status.txt", edited)),
    )
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 1)
    assert {a["article"]["id"] for a in again["articles"]} == {
        by_key["refunds.md"]["id"],
        by_key["status.txt"]["id"],
    }


async def test_upload_refuses_unknown_formats_and_oversized_files(harness: Harness) -> None:
    admin = await workspace(harness)
    before = await snapshot(harness)
    unknown = await admin.post(
        "/knowledge/upload", files=_files(("ok.md", "# A\n\nb"), ("sheet.xlsx", b"PK\x03\x04"))
    )
    assert unknown.status_code == 400, unknown.text
    assert unknown.json()["error"]["code"] == "unsupported_format"
    assert "sheet.xlsx" in unknown.json()["error"]["message"]
    broken = await admin.post("/knowledge/upload", files=_files(("broken.pdf", b"%PDF-1.4 no")))
    assert broken.status_code == 400, broken.text
    assert "broken.pdf" in broken.json()["error"]["message"]
    huge = await admin.post(
        "/knowledge/upload", files=_files(("huge.txt", b"a" * (10 * 1024 * 1024 + 1)))
    )
    assert huge.status_code == 413, huge.text
    assert huge.json()["error"]["code"] == "payload_too_large"
    assert await snapshot(harness) == before  # all or nothing


async def test_reindex_embeds_again_and_only_missing_skips_current_ones(harness: Harness) -> None:
    admin = await workspace(harness)
    created = await _create(admin)
    everything = await admin.ok("POST", "/knowledge/reindex")
    assert (everything["articles"], everything["chunks_embedded"]) == (1, 3)
    assert everything["encoder"] == created["chunks"][0]["encoder"]
    missing = await admin.ok("POST", "/knowledge/reindex", params={"only_missing": True})
    assert missing["chunks_embedded"] == 0


async def test_agents_read_and_only_admins_write(harness: Harness) -> None:
    admin = await workspace(harness)
    plain = await agent(admin)
    created = await _create(admin)
    assert (await plain.ok("GET", f"{ARTICLES}/{created['id']}"))["id"] == created["id"]
    for method, path in (
        ("POST", ARTICLES),
        ("PATCH", f"{ARTICLES}/{created['id']}"),
        ("DELETE", f"{ARTICLES}/{created['id']}"),
        ("POST", "/knowledge/upload"),
        ("POST", "/knowledge/reindex"),
    ):
        response = await plain.request(method, path, json={"body": "# x\n\ny"})
        assert response.status_code == 403, (method, path, response.text)


async def test_another_workspace_sees_nothing_of_it(harness: Harness) -> None:
    owner = await workspace(harness)
    other = await workspace(harness)
    created = await _create(owner)
    before = await snapshot(harness)
    for method, body in (("GET", None), ("PATCH", {"title": "Mine"}), ("DELETE", None)):
        response = await other.request(method, f"{ARTICLES}/{created['id']}", json=body)
        assert response.status_code == 404, (method, response.text)
    assert (await other.ok("GET", ARTICLES))["items"] == []
    assert (await other.ok("GET", ARTICLES, params={"q": "Refund"}))["items"] == []
    assert await snapshot(harness) == before
