"""Contacts from a CSV file: match each row, validate it, write in batches, report.

Shared by ``onethread contacts import`` and ``POST /api/v1/contacts/import``; the rules
(columns, matching, empty cells, ``null``) are in docs/contacts.md, "Importing from CSV".
Each batch is read, checked and written in one transaction, so a contact changed by an
agent meanwhile is merged with, not overwritten by, the row.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Row, Select, select
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.contacts.actions import ContactChange, do_write_contacts
from onethread.contacts.identity import normalize_email, normalize_phone
from onethread.contacts.models import Contact, ContactIdentity
from onethread.contacts.value import (
    CHURNED_AT,
    CUSTOMER_SINCE,
    VALUE_ATTRIBUTES,
    changed_keys,
    check_dates,
    stored_value,
)
from onethread.db.database import Database
from onethread.db.types import MAX_ID
from onethread.errors import InvalidInput

BATCH_ROWS = 1000
LOOKUP_CHUNK = 1000
CLEAR = "null"
FIELD_COLUMNS = ("name", "email", "phone", "language")
KNOWN_COLUMNS = ("id", *FIELD_COLUMNS, *VALUE_ATTRIBUTES)
MATCH_COLUMNS = ("id", "email", "phone")
FIELD_LIMITS = {"name": 200, "language": 16}
MAX_COLUMN_NAME = 100
_ID = re.compile(r"[0-9]{1,19}")
SOURCE = "import"

T = TypeVar("T")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rejected": [asdict(r) for r in self.rejected]}


@dataclass(frozen=True)
class CsvRow:
    """A record of the file: the line it starts on and its non-empty cells by column."""

    line: int
    cells: dict[str, str]
    problem: str | None = None


@dataclass
class _Parsed:
    line: int
    contact_id: int | None
    email: str | None
    phone: str | None
    fields: dict[str, str | None]  # name, email, phone, language to set (None clears)
    attributes: dict[str, Any]  # stored form; None removes


@dataclass
class _Known:
    """The workspace's contacts a batch can match, and who owns each email and phone."""

    contacts: dict[int, Row[Any]] = field(default_factory=dict)
    by_email: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_phone: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))


@dataclass
class _Seen:
    """Accepted rows so far: by contact id, and by email or phone for new contacts."""

    contacts: dict[int, int] = field(default_factory=dict)
    new_keys: dict[str, int] = field(default_factory=dict)


def decode_csv(data: bytes) -> str:
    """The file's text: UTF-8, with or without a byte order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the file is not UTF-8 text (byte {exc.start})", details={"field": "file"}
        ) from exc


def read_csv(text: str) -> list[CsvRow]:
    """The records of a CSV file with a header; ``InvalidInput`` if the file is unusable."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        columns = _columns(next(reader, None))
        rows: list[CsvRow] = []
        previous_end = reader.line_num
        for record in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(columns):
                problem = f"{len(record)} fields where the header has {len(columns)}"
                rows.append(CsvRow(line, {}, problem))
                continue
            cells = {c: v.strip() for c, v in zip(columns, record, strict=True) if v.strip()}
            rows.append(CsvRow(line, cells))
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num}: {exc}", details={"field": "file"}) from exc
    return rows


async def import_contacts(
    db: Database,
    workspace_id: int,
    text: str,
    *,
    dry_run: bool = False,
    by_agent_id: int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV file's contacts; ``dry_run`` checks every row and writes nothing."""
    rows = read_csv(text)
    report = ImportReport(rows=len(rows), dry_run=dry_run)
    seen = _Seen()
    done = 0
    for batch in _chunks(rows, BATCH_ROWS):
        async with db.sessions() as session:
            if not db.is_sqlite:
                await _plan_lookups_by_index(session)
            await _import_batch(session, workspace_id, batch, seen, report, by_agent_id)
            if dry_run:
                await session.rollback()
            else:
                await session.commit()
        done += len(batch)
        if progress is not None:
            progress(done, len(rows))
    report.rejected.sort(key=lambda rejected: rejected.line)
    return report


async def _plan_lookups_by_index(session: AsyncSession) -> None:
    """PostgreSQL, this transaction: look emails and phones up in the btree indexes.

    Left alone, the planner may take the trigram index for ``phone IN (…)`` (a second
    per lookup), or, with a generic plan, compare every contact to the whole list."""
    await session.execute(sql("SET LOCAL plan_cache_mode = force_custom_plan"))
    await session.execute(sql("SET LOCAL enable_bitmapscan = off"))


def _columns(header: list[str] | None) -> list[str]:
    if header is None:
        raise InvalidInput("the file is empty: a header comes first", details={"field": "file"})
    columns: list[str] = []
    for position, raw in enumerate(header, start=1):
        name = raw.strip()
        if name.lower() in KNOWN_COLUMNS:
            name = name.lower()
        if not name or len(name) > MAX_COLUMN_NAME:
            raise InvalidInput(
                f"column {position} needs a name of 1 to {MAX_COLUMN_NAME} characters",
                details={"field": "file"},
            )
        if name in columns:
            raise InvalidInput(f"column {name!r} appears twice", details={"field": "file"})
        columns.append(name)
    if not set(MATCH_COLUMNS) & set(columns):
        raise InvalidInput(
            "the header needs an id, email or phone column to match contacts",
            details={"field": "file"},
        )
    return columns


async def _import_batch(
    session: AsyncSession,
    workspace_id: int,
    batch: list[CsvRow],
    seen: _Seen,
    report: ImportReport,
    by_agent_id: int | None,
) -> None:
    parsed: list[_Parsed] = []
    for row in batch:
        try:
            parsed.append(_parse(row))
        except ValueError as exc:
            report.rejected.append(Rejected(row.line, str(exc)))
    known = await _lookup(session, workspace_id, parsed)
    changes: list[ContactChange] = []
    lines_of_new: list[int] = []
    for checked in parsed:
        try:
            change = _change(checked, known, seen)
        except ValueError as exc:
            report.rejected.append(Rejected(checked.line, str(exc)))
            continue
        if change is None:
            report.unchanged += 1
        elif change.contact_id is None:
            changes.append(change)
            lines_of_new.append(checked.line)
            report.created += 1
        else:
            changes.append(change)
            report.updated += 1
    created = await do_write_contacts(
        session, workspace_id, changes, by_agent_id=by_agent_id, source=SOURCE
    )
    seen.contacts.update(zip(created, lines_of_new, strict=True))


def _parse(row: CsvRow) -> _Parsed:
    if row.problem is not None:
        raise ValueError(row.problem)
    cells = row.cells
    contact_id = None
    if "id" in cells:
        if not _ID.fullmatch(cells["id"]) or not 0 < int(cells["id"]) <= MAX_ID:
            raise ValueError(f"id: {cells['id']!r} is not a contact id")
        contact_id = int(cells["id"])
    fields = {name: _field(name, cells[name]) for name in FIELD_COLUMNS if name in cells}
    attributes: dict[str, Any] = {}
    for column, raw in cells.items():
        if column in KNOWN_COLUMNS and column not in VALUE_ATTRIBUTES:
            continue
        if raw.lower() == CLEAR:
            attributes[column] = None
        elif column in VALUE_ATTRIBUTES:
            try:
                attributes[column] = stored_value(column, raw)
            except ValueError as exc:
                raise ValueError(f"{column}: {exc}") from exc
        else:
            attributes[column] = raw
    email, phone = fields.get("email"), fields.get("phone")
    if contact_id is None and not email and not phone:
        raise ValueError("no id, email or phone to match a contact on")
    return _Parsed(row.line, contact_id, email, phone, fields, attributes)


def _field(name: str, raw: str) -> str | None:
    if raw.lower() == CLEAR:
        return None
    if name == "email":
        email = normalize_email(raw)
        if email is None:
            raise ValueError(f"email: {raw!r} is not an email address")
        return email
    if name == "phone":
        phone = normalize_phone(raw)
        if phone is None:
            raise ValueError(f"phone: {raw!r} is not a phone number")
        return phone
    if len(raw) > FIELD_LIMITS[name]:
        raise ValueError(f"{name}: longer than {FIELD_LIMITS[name]} characters")
    return raw


def _columns_of_contacts(workspace_id: int) -> Select[Any]:
    return (
        select(
            Contact.id,
            Contact.name,
            Contact.email,
            Contact.phone,
            Contact.language,
            Contact.attributes,
            Contact.merged_into_id,
        )
        .where(Contact.workspace_id == workspace_id)
        .with_for_update()
    )


async def _lookup(session: AsyncSession, workspace_id: int, parsed: list[_Parsed]) -> _Known:
    """The contacts the rows name by id, and the live ones owning their email or phone
    (on the contact, or on a verified identity: the same rule as linking senders)."""
    known = _Known()
    contacts = _columns_of_contacts(workspace_id)
    ids = {row.contact_id for row in parsed if row.contact_id is not None}
    for chunk in _chunks(sorted(ids), LOOKUP_CHUNK):
        for contact in await session.execute(contacts.where(Contact.id.in_(chunk))):
            known.contacts[contact.id] = contact
    unmatched = [row for row in parsed if row.contact_id is None]
    owners: set[int] = set()
    for name, index in (("email", known.by_email), ("phone", known.by_phone)):
        values = sorted({getattr(row, name) for row in unmatched if getattr(row, name)})
        on_contact, on_identity = getattr(Contact, name), getattr(ContactIdentity, name)
        for chunk in _chunks(values, LOOKUP_CHUNK):
            for contact in await session.execute(contacts.where(on_contact.in_(chunk))):
                known.contacts[contact.id] = contact
                index[getattr(contact, name)].add(contact.id)
            for contact_id, value in await session.execute(
                select(ContactIdentity.contact_id, on_identity).where(
                    ContactIdentity.workspace_id == workspace_id,
                    ContactIdentity.verified.is_(True),
                    on_identity.in_(chunk),
                )
            ):
                index[value].add(contact_id)
        owners |= {contact_id for found in index.values() for contact_id in found}
    for chunk in _chunks(sorted(owners - set(known.contacts)), LOOKUP_CHUNK):
        for contact in await session.execute(contacts.where(Contact.id.in_(chunk))):
            known.contacts[contact.id] = contact
    merged = {contact_id for contact_id, c in known.contacts.items() if c.merged_into_id}
    for index in (known.by_email, known.by_phone):
        for found in index.values():
            found.difference_update(merged)
    return known


def _change(row: _Parsed, known: _Known, seen: _Seen) -> ContactChange | None:
    """What the row changes (None: nothing); ``ValueError`` says why it is rejected."""
    contact_id = _match(row, known)
    if contact_id is not None and contact_id in seen.contacts:
        raise ValueError(f"duplicate: line {seen.contacts[contact_id]} is the same contact")
    keys = [key for key in (row.email, row.phone) if key]
    if contact_id is None:
        for key in keys:
            if key in seen.new_keys:
                raise ValueError(f"duplicate: line {seen.new_keys[key]} is the same contact")
    current = known.contacts[contact_id] if contact_id is not None else None
    attributes_now: dict[str, Any] = dict(current.attributes or {}) if current else {}
    attribute_keys = changed_keys(attributes_now, row.attributes)
    merged = {**attributes_now, **{key: row.attributes[key] for key in attribute_keys}}
    merged = {key: value for key, value in merged.items() if value is not None}
    if CUSTOMER_SINCE in row.attributes or CHURNED_AT in row.attributes:
        problem = check_dates(merged)
        if problem is not None:
            raise ValueError(problem)
    values: dict[str, Any] = {
        name: value
        for name, value in row.fields.items()
        if current is None or getattr(current, name) != value
    }
    if attribute_keys:
        values["attributes"] = merged
    if contact_id is None:
        for key in keys:
            seen.new_keys[key] = row.line
        return ContactChange(None, values, attribute_keys)
    seen.contacts[contact_id] = row.line
    if not values:
        return None
    return ContactChange(contact_id, values, attribute_keys)


def _match(row: _Parsed, known: _Known) -> int | None:
    if row.contact_id is not None:
        contact = known.contacts.get(row.contact_id)
        if contact is None:
            raise ValueError(f"unknown contact id {row.contact_id}")
        if contact.merged_into_id is not None:
            raise ValueError(
                f"contact {contact.id} was merged into contact {contact.merged_into_id}"
            )
        return row.contact_id
    by_email = known.by_email.get(row.email, set()) if row.email else set()
    by_phone = known.by_phone.get(row.phone, set()) if row.phone else set()
    matches = by_email | by_phone
    if len(matches) > 1:
        found = [
            f"{name} {value} matches contact{_ids(ids)}"
            for name, value, ids in (("email", row.email, by_email), ("phone", row.phone, by_phone))
            if ids
        ]
        raise ValueError("ambiguous: " + "; ".join(found))
    return next(iter(matches), None)


def _ids(ids: set[int]) -> str:
    plural = "s" if len(ids) > 1 else ""
    return plural + " " + ", ".join(str(contact_id) for contact_id in sorted(ids))


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
