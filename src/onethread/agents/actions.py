"""Agent, team and token writes, each with its event."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.models import Agent, ApiToken, Availability, Role, Team, TeamMember, TokenKind
from onethread.agents.passwords import hash_password, new_token, token_digest
from onethread.agents.service import access_agent
from onethread.db.types import utcnow
from onethread.errors import Conflict, InvalidInput, NotFound
from onethread.events.log import append_event
from onethread.events.types import EventType


async def do_create_agent(
    session: AsyncSession,
    workspace_id: int,
    *,
    email: str,
    name: str,
    role: Role = Role.AGENT,
    password: str | None = None,
    languages: list[str] | None = None,
    by_agent_id: int | None = None,
) -> Agent:
    email = email.strip().lower()
    taken = await session.scalar(
        select(Agent.id).where(Agent.workspace_id == workspace_id, Agent.email == email)
    )
    if taken is not None:
        raise Conflict(f"an agent with email {email} already exists in this workspace")
    agent = Agent(
        workspace_id=workspace_id,
        email=email,
        name=name,
        role=role.value,
        password_hash=hash_password(password) if password else None,
        languages=languages or [],
        availability=Availability.OFFLINE.value,
        active=True,
        created_at=utcnow(),
    )
    session.add(agent)
    await session.flush()
    append_event(
        session,
        workspace_id,
        EventType.AGENT_CREATED,
        agent_id=by_agent_id,
        data={"id": agent.id, "email": email, "role": role.value},
    )
    return agent


async def do_update_agent(
    session: AsyncSession,
    agent: Agent,
    *,
    by_agent_id: int,
    name: str | None = None,
    role: Role | None = None,
    active: bool | None = None,
    availability: Availability | None = None,
    languages: list[str] | None = None,
    password: str | None = None,
) -> Agent:
    changed: list[str] = []
    if name is not None and name != agent.name:
        agent.name, changed = name, [*changed, "name"]
    if role is not None and role.value != agent.role:
        await _keep_an_admin(session, agent, demoting=True)
        agent.role, changed = role.value, [*changed, "role"]
    if active is not None and active != agent.active:
        if not active:
            await _keep_an_admin(session, agent, demoting=agent.role == Role.ADMIN.value)
        agent.active, changed = active, [*changed, "active"]
    if availability is not None and availability.value != agent.availability:
        agent.availability, changed = availability.value, [*changed, "availability"]
    if languages is not None and languages != agent.languages:
        agent.languages, changed = languages, [*changed, "languages"]
    if password is not None:
        agent.password_hash, changed = hash_password(password), [*changed, "password"]
    if changed:
        data: dict[str, object] = {"id": agent.id, "changed": changed}
        if "availability" in changed:
            data["availability"] = agent.availability
        if "active" in changed:
            data["active"] = agent.active
        append_event(
            session, agent.workspace_id, EventType.AGENT_UPDATED, agent_id=by_agent_id, data=data
        )
    return agent


async def _keep_an_admin(session: AsyncSession, agent: Agent, *, demoting: bool) -> None:
    if not demoting or agent.role != Role.ADMIN.value:
        return
    others = await session.scalar(
        select(Agent.id)
        .where(
            Agent.workspace_id == agent.workspace_id,
            Agent.role == Role.ADMIN.value,
            Agent.active.is_(True),
            Agent.id != agent.id,
        )
        .limit(1)
    )
    if others is None:
        raise Conflict("a workspace needs at least one active admin")


async def do_create_token(
    session: AsyncSession,
    agent: Agent,
    *,
    name: str,
    kind: TokenKind = TokenKind.API,
    expires_at: datetime | None = None,
    scopes: list[str] | None = None,
) -> tuple[ApiToken, str]:
    """Returns the row and the token itself, which is never stored nor shown again."""
    token = new_token()
    row = ApiToken(
        workspace_id=agent.workspace_id,
        agent_id=agent.id,
        name=name,
        kind=kind.value,
        token_hash=token_digest(token),
        expires_at=expires_at,
        scopes=scopes,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row, token


def session_expiry(days: int) -> datetime:
    return utcnow() + timedelta(days=days)


async def do_revoke_token(session: AsyncSession, token: ApiToken) -> None:
    """Delete ``token``; its event closes the websockets opened with it, on every process."""
    append_event(
        session,
        token.workspace_id,
        EventType.TOKEN_REVOKED,
        agent_id=token.agent_id,
        data={"id": token.id, "agent_id": token.agent_id},
    )
    await session.delete(token)


async def do_create_team(
    session: AsyncSession,
    workspace_id: int,
    *,
    name: str,
    domain: str,
    member_ids: list[int],
    by_agent_id: int | None,
) -> Team:
    if (
        await session.scalar(
            select(Team.id).where(Team.workspace_id == workspace_id, Team.name == name)
        )
        is not None
    ):
        raise Conflict(f"a team named {name!r} already exists")
    team = Team(workspace_id=workspace_id, name=name, domain=domain, created_at=utcnow())
    session.add(team)
    await session.flush()
    await _set_members(session, team, member_ids)
    append_event(
        session,
        workspace_id,
        EventType.TEAM_CREATED,
        agent_id=by_agent_id,
        data={"id": team.id, "name": name, "domain": domain, "member_ids": member_ids},
    )
    return team


async def do_update_team(
    session: AsyncSession,
    team: Team,
    *,
    by_agent_id: int,
    name: str | None = None,
    domain: str | None = None,
    member_ids: list[int] | None = None,
) -> Team:
    if name is not None and name != team.name:
        clash = await session.scalar(
            select(Team.id).where(Team.workspace_id == team.workspace_id, Team.name == name)
        )
        if clash is not None:
            raise Conflict(f"a team named {name!r} already exists")
        team.name = name
    if domain is not None:
        team.domain = domain
    if member_ids is not None:
        await _set_members(session, team, member_ids)
    append_event(
        session,
        team.workspace_id,
        EventType.TEAM_UPDATED,
        agent_id=by_agent_id,
        data={"id": team.id, "name": team.name, "domain": team.domain, "member_ids": member_ids},
    )
    return team


async def _set_members(session: AsyncSession, team: Team, member_ids: list[int]) -> None:
    for agent_id in set(member_ids):
        try:
            await access_agent(session, team.workspace_id, agent_id)
        except NotFound as exc:
            raise InvalidInput(f"agent {agent_id} is not in this workspace") from exc
    await session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
    session.add_all(TeamMember(team_id=team.id, agent_id=agent_id) for agent_id in set(member_ids))
    await session.flush()
