from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.canned.models import CannedResponse
from onethread.db.access import get_in_workspace


async def access_canned(session: AsyncSession, workspace_id: int, canned_id: int) -> CannedResponse:
    return await get_in_workspace(
        session, CannedResponse, workspace_id, canned_id, "canned response"
    )


async def list_canned(
    session: AsyncSession, workspace_id: int, q: str | None = None
) -> list[CannedResponse]:
    query = select(CannedResponse).where(CannedResponse.workspace_id == workspace_id)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(
                CannedResponse.shortcut.like(pattern),
                CannedResponse.title.ilike(pattern),
                CannedResponse.text.ilike(pattern),
            )
        )
    return list(await session.scalars(query.order_by(CannedResponse.shortcut)))


async def shortcut_taken(
    session: AsyncSession, workspace_id: int, shortcut: str, except_id: int | None = None
) -> bool:
    query = select(CannedResponse.id).where(
        CannedResponse.workspace_id == workspace_id, CannedResponse.shortcut == shortcut
    )
    found = await session.scalar(query)
    return found is not None and found != except_id
