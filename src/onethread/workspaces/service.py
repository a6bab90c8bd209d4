from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.errors import NotFound
from onethread.workspaces.models import Workspace
from onethread.workspaces.schemas import WorkspaceSettings


async def access_workspace(session: AsyncSession, workspace_id: int) -> Workspace:
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(f"workspace {workspace_id} not found")
    return workspace


async def list_workspaces(session: AsyncSession) -> list[Workspace]:
    return list((await session.scalars(select(Workspace).order_by(Workspace.id))).all())


def settings_of(workspace: Workspace) -> WorkspaceSettings:
    return WorkspaceSettings.model_validate(workspace.settings or {})
