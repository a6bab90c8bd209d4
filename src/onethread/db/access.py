"""Fetching a row by id within a workspace: the one shape of every ``access_*`` read."""

from __future__ import annotations

from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.errors import NotFound


class Scoped(Protocol):
    workspace_id: int


ScopedT = TypeVar("ScopedT", bound=Scoped)


async def get_in_workspace(
    session: AsyncSession,
    model: type[ScopedT],
    workspace_id: int,
    ident: int,
    noun: str,
    *,
    for_update: bool = False,
) -> ScopedT:
    """The row, or NotFound: another workspace's id looks exactly like a missing one.

    ``for_update`` locks the row until the transaction ends (PostgreSQL; SQLite has one
    writer), for read-modify-write updates such as merging JSON attributes."""
    row = await session.get(model, ident, with_for_update=for_update)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"{noun} {ident} not found")
    return row
