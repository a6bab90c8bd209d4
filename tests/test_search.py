"""Free text (`q=`): a case-insensitive substring of messages and contacts, from the index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, inspect, text, update
from sqlalchemy.engine import Connection

from onethread.contacts.models import Contact
from onethread.conversations.models import Conversation, Message
from onethread.conversations.search import SEARCH_INDEX_TABLES, TRIGRAM_INDEXES
from onethread.conversations.service import ConversationFilters, list_conversations
from onethread.db import migrate
from onethread.db.database import Database
from onethread.db.types import utcnow
from onethread.workspaces.actions import do_create_workspace
from onethread.workspaces.models import Workspace
from onethread.workspaces.schemas import WorkspaceSettings
from tests.conftest import Harness
from tests.factories import Api, inbound, inbox, workspace


async def found(api: Api, query: str) -> set[int]:
    page = await api.ok("GET", "/conversations", params={"q": query, "limit": 100})
    return {conversation["id"] for conversation in page["items"]}


async def test_a_word_inside_a_message_ignoring_case(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin)
    hit = await inbound(
        admin, whatsapp["id"], "15550100001", "Bonjour, ici Zoë Müller, ma commande est perdue"
    )
    await inbound(admin, whatsapp["id"], "15550100002", "Where is my order?")

    # ASCII and non-ASCII letters in either case, in the middle of a word or across two
    for query in ("müller", "MÜLLER", "zoë", "ZOË", "Commande", "oë Mü", "  perdue  "):
        assert await found(admin, query) == {hit["conversation_id"]}, query
    assert await found(admin, "Müllers") == set()


async def test_a_fragment_of_the_contacts_name_email_or_phone(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin)
    hit = await inbound(
        admin, whatsapp["id"], "15550100003", "hello", sender_name="Ingrid Þórsdóttir"
    )
    await inbound(admin, whatsapp["id"], "15550100004", "hello", sender_name="Ingo Smith")
    await admin.ok(
        "PATCH",
        f"/contacts/{hit['contact_id']}",
        json={"email": "ingrid.t@example.is", "phone": "+354 555 0199"},
    )

    for query in ("rsdó", "INGRID", "d.t@exa", "3545550", "5550199"):
        assert await found(admin, query) == {hit["conversation_id"]}, query
    assert len(await found(admin, "Ing")) == 2


async def test_an_edited_contact_is_found_by_its_new_name_only(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin)
    hit = await inbound(admin, whatsapp["id"], "15550100005", "hi", sender_name="Pat Oldname")

    await admin.ok("PATCH", f"/contacts/{hit['contact_id']}", json={"name": "Pat Newname"})

    assert await found(admin, "newname") == {hit["conversation_id"]}
    assert await found(admin, "oldname") == set()


async def test_other_workspaces_conversations_are_never_found(harness: Harness) -> None:
    own, other = await workspace(harness), await workspace(harness)
    mine = await inbound(own, (await inbox(own))["id"], "15550100006", "parcel 7Q9 missing")
    await inbound(other, (await inbox(other))["id"], "15550100006", "parcel 7Q9 missing")

    for query in ("7Q9", "parcel", "7Q", "q"):
        assert await found(own, query) == {mine["conversation_id"]}, query


async def test_a_new_message_in_an_old_thread_is_found(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin)
    first = await inbound(admin, whatsapp["id"], "15550100007", "hello")
    assert await found(admin, "tracking") == set()

    await inbound(admin, whatsapp["id"], "15550100007", "my tracking number is ZX-41")

    assert await found(admin, "tracking") == {first["conversation_id"]}
    assert await found(admin, "zx-4") == {first["conversation_id"]}


async def test_one_and_two_characters_still_match(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin)
    zoe = await inbound(admin, whatsapp["id"], "15550100008", "Zoë here")
    other = await inbound(admin, whatsapp["id"], "15550100009", "just me", sender_name="Al")

    assert await found(admin, "zo") == {zoe["conversation_id"]}
    assert await found(admin, "ë") == {zoe["conversation_id"]}
    assert await found(admin, "AL") == {other["conversation_id"]}
    assert await found(admin, "j") == {other["conversation_id"]}
    assert await found(admin, "qx") == set()


async def test_wildcards_and_quotes_are_plain_characters(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin)
    percent = await inbound(admin, whatsapp["id"], "15550100010", "I want 50% off, code a_b")
    await inbound(admin, whatsapp["id"], "15550100011", "I want 500 off, code axb")
    quoted = await inbound(admin, whatsapp["id"], "15550100012", 'he said "refund" twice')

    for query in ("50%", "a_b", "%", "_"):
        assert await found(admin, query) == {percent["conversation_id"]}, query
    for query in ('"refund"', '"', 'd" tw'):
        assert await found(admin, query) == {quoted["conversation_id"]}, query
    assert await found(admin, "refund OR x*") == set()  # no FTS5 query syntax either


# --- the index itself, below the API: backfill, edits and deletes, removal -------------------


async def _thread(db: Database, workspace_id: int, name: str, *texts: str) -> tuple[int, int]:
    """A contact and a conversation holding ``texts``, inserted directly; returns their ids."""
    async with db.session() as session:
        contact = Contact(workspace_id=workspace_id, name=name, attributes={})
        session.add(contact)
        await session.flush()
        conversation = Conversation(
            workspace_id=workspace_id, contact_id=contact.id, last_message_at=utcnow()
        )
        session.add(conversation)
        await session.flush()
        for body in texts:
            session.add(
                Message(
                    workspace_id=workspace_id,
                    conversation_id=conversation.id,
                    direction="in",
                    sender_kind="contact",
                    text=body,
                )
            )
    return contact.id, conversation.id


async def _search(db: Database, workspace_id: int, query: str) -> set[int]:
    async with db.read_session() as session:
        rows, _ = await list_conversations(
            session, workspace_id, ConversationFilters(q=query), limit=100
        )
    return {row.id for row in rows}


async def _search_objects(db: Database) -> dict[str, set[str]]:
    def read(connection: Connection) -> dict[str, set[str]]:
        schema = inspect(connection)
        tables = set(schema.get_table_names()) & SEARCH_INDEX_TABLES
        indexes = {
            index["name"]
            for table in ("messages", "contacts")
            for index in schema.get_indexes(table)
            if index["name"] in TRIGRAM_INDEXES
        }
        triggers: set[Any] = set()
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger'")
            triggers = set(rows.scalars())
        return {"tables": tables, "indexes": indexes, "triggers": triggers}

    async with db.engine.connect() as connection:
        return await connection.run_sync(read)


async def test_the_migration_indexes_existing_rows_and_keeps_up(empty_database: Database) -> None:
    await migrate.upgrade(empty_database.engine, "0002")
    # Rows inserted directly, as in _thread: today's actions write columns 0002 lacks.
    async with empty_database.session() as session:
        workspace = Workspace(name="Search", settings=WorkspaceSettings().model_dump(mode="json"))
        session.add(workspace)
    ws = workspace.id
    contact_id, before = await _thread(empty_database, ws, "Dana Whitfield", "the parcel is late")

    await migrate.upgrade(empty_database.engine)

    assert await _search(empty_database, ws, "PARCEL") == {before}
    assert await _search(empty_database, ws, "whitf") == {before}
    _, after = await _thread(empty_database, ws, "Eli", "wrong size of shoe", "second message")
    assert await _search(empty_database, ws, "size of") == {after}

    async with empty_database.session() as session:
        await session.execute(
            update(Message).where(Message.text == "wrong size of shoe").values(text="fits well")
        )
        await session.execute(update(Contact).where(Contact.id == contact_id).values(name="Dee"))
    assert await _search(empty_database, ws, "size of") == set()
    assert await _search(empty_database, ws, "fits w") == {after}
    assert await _search(empty_database, ws, "whitf") == set()
    assert await _search(empty_database, ws, "dee") == {before}

    async with empty_database.session() as session:  # a merge moves messages between threads
        await session.execute(
            update(Message).where(Message.conversation_id == after).values(conversation_id=before)
        )
    assert await _search(empty_database, ws, "fits w") == {before}

    async with empty_database.session() as session:
        await session.execute(delete(Message).where(Message.text == "fits well"))
    assert await _search(empty_database, ws, "fits w") == set()
    assert await _search(empty_database, ws, "second") == {before}


async def test_downgrade_removes_the_index_and_upgrade_rebuilds_it(
    empty_database: Database,
) -> None:
    await migrate.upgrade(empty_database.engine)
    async with empty_database.session() as session:
        created = await do_create_workspace(
            session, name="Search", admin_email="a@search.test", admin_password="pw for search"
        )
    ws = created.workspace.id
    _, conversation_id = await _thread(empty_database, ws, "Fay", "a lost voucher")
    built = await _search_objects(empty_database)
    if empty_database.is_sqlite:
        assert built["tables"] == {
            f"{fts}{shadow}"
            for fts in ("messages_search", "contacts_search")
            for shadow in ("", "_data", "_idx", "_config")
        }
        assert len(built["triggers"]) == 6  # insert, update, delete on messages and contacts
    else:
        assert built["indexes"] == TRIGRAM_INDEXES

    await migrate.downgrade(empty_database.engine, "0002")

    assert await _search_objects(empty_database) == {
        "tables": set(),
        "indexes": set(),
        "triggers": set(),
    }
    if not empty_database.is_sqlite:
        async with empty_database.engine.connect() as connection:
            extension = "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"
            assert await connection.scalar(text(extension)) == 0
    await migrate.upgrade(empty_database.engine)
    assert await _search_objects(empty_database) == built
    assert await _search(empty_database, ws, "VOUCHER") == {conversation_id}
