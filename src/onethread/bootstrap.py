"""Operator tasks behind the CLI that need a database but no server."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.db import migrate
from onethread.db.database import Database
from onethread.errors import DomainError
from onethread.events.log import install_publish_after_commit
from onethread.integrations.enqueue import install_webhook_enqueue
from onethread.outbox import actions as outbox_actions
from onethread.outbox import service as outbox_service
from onethread.settings import Settings
from onethread.workspaces.actions import do_create_workspace
from onethread.workspaces.models import Workspace
from onethread.workspaces.service import list_workspaces


async def open_database(settings: Settings, *, upgrade: bool = True) -> Database:
    install_publish_after_commit()
    install_webhook_enqueue()
    db = Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    if upgrade:
        await migrate.upgrade(db.engine)
    return db


async def pick_workspace(session: AsyncSession, workspace_id: int | None) -> Workspace:
    """The workspace a CLI command acts on: the one given, or the only one there is."""
    if workspace_id is not None:
        workspace = await session.get(Workspace, workspace_id)
        if workspace is None:
            raise ValueError(f"no workspace {workspace_id}")
        return workspace
    workspaces = await list_workspaces(session)
    if len(workspaces) == 1:
        return workspaces[0]
    if not workspaces:
        raise ValueError("no workspace yet: run `onethread init` (or `onethread demo`) first")
    named = ", ".join(f"{w.id} ({w.name})" for w in workspaces)
    raise ValueError(f"several workspaces ({named}): choose one with --workspace ID")


async def create_workspace(
    settings: Settings, *, name: str, admin_email: str, admin_password: str, admin_name: str | None
) -> dict[str, Any]:
    if len(admin_password) < 8:
        raise ValueError("the admin password needs at least 8 characters")
    if "@" not in admin_email:
        raise ValueError(f"{admin_email!r} is not an email address")
    db = await open_database(settings)
    try:
        async with db.session() as session:
            created = await do_create_workspace(
                session,
                name=name,
                admin_email=admin_email,
                admin_password=admin_password,
                admin_name=admin_name,
            )
    except DomainError as exc:
        raise ValueError(exc.message) from exc
    finally:
        await db.dispose()
    return {
        "workspace_id": created.workspace.id,
        "workspace_name": created.workspace.name,
        "admin_id": created.admin.id,
        "admin_email": created.admin.email,
        "token": created.token,
    }


async def list_jobs(
    settings: Settings, *, status: str | None, kind: str | None, limit: int
) -> list[dict[str, Any]]:
    db = await open_database(settings, upgrade=False)
    try:
        async with db.read_session() as session:
            jobs = await outbox_service.list_jobs(
                session, workspace_id=None, status=status, kind=kind, limit=limit
            )
    finally:
        await db.dispose()
    return [
        {
            "id": j.id,
            "workspace_id": j.workspace_id,
            "kind": j.kind,
            "status": j.status,
            "attempts": j.attempts,
            "max_attempts": j.max_attempts,
            "run_at": j.run_at.isoformat(),
            "last_error": j.last_error,
        }
        for j in jobs
    ]


async def retry_jobs(settings: Settings, job_ids: list[int]) -> None:
    db = await open_database(settings, upgrade=False)
    try:
        async with db.session() as session:
            for job_id in job_ids:
                job = await outbox_service.access_job(session, job_id, workspace_id=None)
                outbox_actions.retry_dead(job)
    except DomainError as exc:
        raise ValueError(exc.message) from exc
    finally:
        await db.dispose()
