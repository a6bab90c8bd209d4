"""The caller's workspace: its name and settings (reopen window, hours, timezone)."""

from __future__ import annotations

from fastapi import APIRouter

from onethread.api.deps import AdminCaller, CurrentCaller, ReadSession, WriteSession
from onethread.workspaces import actions, service
from onethread.workspaces.schemas import WorkspaceOut, WorkspaceUpdate

router = APIRouter(tags=["workspace"])


@router.get("/workspace", response_model=WorkspaceOut)
async def get_workspace(caller: CurrentCaller, session: ReadSession) -> WorkspaceOut:
    return WorkspaceOut.model_validate(await service.access_workspace(session, caller.workspace_id))


@router.patch("/workspace", response_model=WorkspaceOut)
async def update_workspace(
    body: WorkspaceUpdate, caller: AdminCaller, session: WriteSession
) -> WorkspaceOut:
    workspace = await service.access_workspace(session, caller.workspace_id)
    actions.do_update_workspace(
        session, workspace, by_agent_id=caller.agent.id, name=body.name, settings=body.settings
    )
    await session.commit()
    return WorkspaceOut.model_validate(workspace)
