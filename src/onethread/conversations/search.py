"""Free-text search of conversations: a case-insensitive substring of a message's text or
of the contact's name, email or phone, served by a trigram index on each database.

SQLite keeps FTS5 tables with the ``trigram`` tokenizer (``messages_search`` and
``contacts_search``, external content kept in sync by triggers); a quoted phrase of 3 or
more characters matches exactly the rows that contain it, case folded over all of
Unicode. PostgreSQL keeps ``pg_trgm`` GIN indexes, which serve ``ILIKE '%…%'`` as it is.
Migration 0003 builds both; they are not ORM models, so this module names them for the
model comparison (``include_name``).

A needle of 1 or 2 characters has no trigram to look up. It falls back to the plain
``ILIKE`` scan that served every search before the index: correct, quick when matches
are common (as they are for one or two characters), slow when there are none (up to
0.5 s at 100,000 threads), and on SQLite it folds only ASCII case.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    CompoundSelect,
    Select,
    any_,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    true,
    union,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import InternalTraversal

from onethread.contacts.models import Contact
from onethread.conversations.models import Conversation, Message

MIN_INDEXED_LENGTH = 3  # a trigram index can serve nothing shorter

# FTS table on SQLite -> the columns it indexes (and ILIKE scans elsewhere)
SEARCHED_COLUMNS: dict[str, tuple[InstrumentedAttribute[Any], ...]] = {
    "messages_search": (Message.text,),
    "contacts_search": (Contact.name, Contact.email, Contact.phone),
}
FTS_SHADOW_SUFFIXES = ("", "_data", "_idx", "_content", "_docsize", "_config")
SEARCH_INDEX_TABLES = frozenset(t + s for t in SEARCHED_COLUMNS for s in FTS_SHADOW_SUFFIXES)
TRIGRAM_INDEXES = frozenset(
    {
        "ix_messages_text_trgm",
        "ix_contacts_name_trgm",
        "ix_contacts_email_trgm",
        "ix_contacts_phone_trgm",
    }
)


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Alembic's ``include_name``: everything but the search index of migration 0003."""
    if type_ == "table":
        return name not in SEARCH_INDEX_TABLES
    return not (type_ == "index" and name in TRIGRAM_INDEXES)


def conversations_matching(workspace_id: int, text: str) -> ColumnElement[bool]:
    """Conversations whose messages or contact contain ``text``, ignoring case."""
    needle = text.strip()
    if not needle:
        return true()
    if len(needle) < MIN_INDEXED_LENGTH:
        return _scanned(workspace_id, needle)
    # Every match from the index, then the page: the cost follows the number of matches.
    messages = select(Message.conversation_id).where(
        Message.workspace_id == workspace_id, _IndexedContains(needle, Message.id)
    )
    contacts = select(Contact.id).where(
        Contact.workspace_id == workspace_id, _IndexedContains(needle, Contact.id)
    )
    thread = aliased(Conversation)  # not the outer query's row: no correlation
    threads = select(thread.id).where(_OneOf(thread.contact_id, contacts))
    return _OneOf(Conversation.id, union(messages, threads))


def _scanned(workspace_id: int, needle: str) -> ColumnElement[bool]:
    """No index: thread by thread down the list, which stops early when matches are common."""
    pattern = _like_pattern(needle)
    contacts = select(Contact.id).where(
        Contact.workspace_id == workspace_id, _ilike_any(Contact.__tablename__, pattern)
    )
    messages = select(Message.id).where(
        Message.conversation_id == Conversation.id, _ilike_any(Message.__tablename__, pattern)
    )
    return or_(Conversation.contact_id.in_(contacts), messages.exists())


def _like_pattern(needle: str) -> str:
    """``%needle%`` with the needle's own ``%`` and ``_`` taken literally (escape ``/``)."""
    return "%" + needle.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _ilike_any(owner: str, pattern: str | BindParameter[str]) -> ColumnElement[bool]:
    columns = SEARCHED_COLUMNS[f"{owner}_search"]
    return or_(*(c.ilike(pattern, escape="/") for c in columns)).self_group()


class _IndexedContains(ColumnElement[bool]):
    """The row contains the needle: FTS5 on SQLite, an ``ILIKE`` that pg_trgm serves elsewhere.

    The needle travels as bound parameters, so searches differ only in their values and
    share one compiled statement in SQLAlchemy's cache.
    """

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a predicate: never rendered as "… = 1"
    _traverse_internals = [
        ("row_id", InternalTraversal.dp_clauseelement),
        ("phrase", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, needle: str, row_id: InstrumentedAttribute[int]) -> None:
        self.row_id: ColumnElement[int] = row_id.expression
        self.owner: str = row_id.class_.__tablename__
        # Quoted, an FTS5 string is literal; its trigrams in a row are exactly the substring.
        self.phrase: BindParameter[str] = bindparam(None, '"' + needle.replace('"', '""') + '"')
        self.pattern: BindParameter[str] = bindparam(None, _like_pattern(needle))


@compiles(_IndexedContains)
def _compile_ilike(element: _IndexedContains, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(_ilike_any(element.owner, element.pattern), **kw)


@compiles(_IndexedContains, "sqlite")
def _compile_fts5(element: _IndexedContains, compiler: SQLCompiler, **kw: Any) -> str:
    fts = f"{element.owner}_search"
    hits: Select[tuple[Any]] = (
        select(column("rowid"))
        .select_from(table(fts))
        .where(literal_column(fts).op("MATCH")(element.phrase))
    )
    return compiler.process(element.row_id.in_(hits), **kw)


class _OneOf(ColumnElement[bool]):
    """``column IN (ids)``; on PostgreSQL ``column = ANY(array(ids))``.

    PostgreSQL then fetches the ids first and looks each one up by index. Given
    ``IN``, its default costs (random_page_cost = 4) made it hash-join whole tables
    instead, three times slower for a name that 4,000 contacts share.
    """

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("target", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, target: InstrumentedAttribute[int], ids: Select[Any] | CompoundSelect[Any]):
        self.target: ColumnElement[int] = target.expression
        self.ids = ids


@compiles(_OneOf)
def _compile_in(element: _OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.target.in_(element.ids), **kw)


@compiles(_OneOf, "postgresql")
def _compile_any_array(element: _OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    ids = func.array(element.ids.scalar_subquery())
    return compiler.process(element.target == any_(ids), **kw)
