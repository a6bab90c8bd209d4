from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.actions import do_create_agent, do_create_token
from onethread.agents.models import Agent, Role
from onethread.db.types import utcnow
from onethread.events.log import append_event
from onethread.events.types import EventType
from onethread.workspaces.models import Workspace
from onethread.workspaces.schemas import WorkspaceSettings


@dataclass
class NewWorkspace:
    workspace: Workspace
    admin: Agent
    token: str


async def do_create_workspace(
    session: AsyncSession,
    *,
    name: str,
    admin_email: str,
    admin_password: str,
    admin_name: str | None = None,
    settings: WorkspaceSettings | None = None,
) -> NewWorkspace:
    """A tenant with its first admin and an API token for that admin."""
    workspace = Workspace(
        name=name,
        settings=(settings or WorkspaceSettings()).model_dump(mode="json"),
        created_at=utcnow(),
    )
    session.add(workspace)
    await session.flush()
    append_event(
        session, workspace.id, EventType.WORKSPACE_CREATED, data={"id": workspace.id, "name": name}
    )
    admin = await do_create_agent(
        session,
        workspace.id,
        email=admin_email,
        name=admin_name or admin_email.partition("@")[0],
        role=Role.ADMIN,
        password=admin_password,
    )
    _, token = await do_create_token(session, admin, name="created by onethread init")
    return NewWorkspace(workspace=workspace, admin=admin, token=token)


def do_update_workspace(
    session: AsyncSession,
    workspace: Workspace,
    *,
    by_agent_id: int,
    name: str | None = None,
    settings: WorkspaceSettings | None = None,
) -> Workspace:
    if name is not None:
        workspace.name = name
    if settings is not None:
        workspace.settings = settings.model_dump(mode="json")
    append_event(
        session,
        workspace.id,
        EventType.WORKSPACE_UPDATED,
        agent_id=by_agent_id,
        data={"name": workspace.name, "settings_changed": settings is not None},
    )
    return workspace
