"""Agent, team and token reads; ``access_*`` fetch within a workspace or raise NotFound."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.models import Agent, ApiToken, Availability, Team, TeamMember
from onethread.agents.passwords import token_digest
from onethread.db.access import get_in_workspace
from onethread.db.types import utcnow
from onethread.errors import NotFound


async def access_agent(session: AsyncSession, workspace_id: int, agent_id: int) -> Agent:
    return await get_in_workspace(session, Agent, workspace_id, agent_id, "agent")


async def list_agents(session: AsyncSession, workspace_id: int) -> list[Agent]:
    rows = await session.scalars(
        select(Agent).where(Agent.workspace_id == workspace_id).order_by(Agent.id)
    )
    return list(rows.all())


async def agents_by_email(session: AsyncSession, email: str) -> list[Agent]:
    rows = await session.scalars(
        select(Agent).where(Agent.email == email.lower(), Agent.active.is_(True))
    )
    return list(rows.all())


async def agent_for_token(session: AsyncSession, token: str) -> tuple[Agent, ApiToken] | None:
    row = (
        await session.execute(
            select(Agent, ApiToken)
            .join(ApiToken, ApiToken.agent_id == Agent.id)
            .where(ApiToken.token_hash == token_digest(token), Agent.active.is_(True))
        )
    ).first()
    if row is None:
        return None
    agent, api_token = row
    if api_token.expires_at is not None and api_token.expires_at <= utcnow():
        return None
    return agent, api_token


async def list_tokens(session: AsyncSession, agent: Agent) -> list[ApiToken]:
    rows = await session.scalars(
        select(ApiToken).where(ApiToken.agent_id == agent.id).order_by(ApiToken.id)
    )
    return list(rows.all())


async def access_token(session: AsyncSession, agent: Agent, token_id: int) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None or token.agent_id != agent.id:
        raise NotFound(f"token {token_id} not found")
    return token


async def access_team(session: AsyncSession, workspace_id: int, team_id: int) -> Team:
    return await get_in_workspace(session, Team, workspace_id, team_id, "team")


async def list_teams(session: AsyncSession, workspace_id: int) -> list[Team]:
    rows = await session.scalars(
        select(Team).where(Team.workspace_id == workspace_id).order_by(Team.id)
    )
    return list(rows.all())


async def team_member_ids(session: AsyncSession, team_ids: list[int]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = {team_id: [] for team_id in team_ids}
    if team_ids:
        rows = await session.execute(
            select(TeamMember.team_id, TeamMember.agent_id)
            .where(TeamMember.team_id.in_(team_ids))
            .order_by(TeamMember.agent_id)
        )
        for team_id, agent_id in rows:
            members[team_id].append(agent_id)
    return members


async def team_by_name(session: AsyncSession, workspace_id: int, name: str) -> Team | None:
    row: Team | None = await session.scalar(
        select(Team).where(Team.workspace_id == workspace_id, Team.name == name)
    )
    return row


AVAILABILITY_ORDER = {Availability.ONLINE.value: 0, Availability.AWAY.value: 1}


async def agent_speaking(
    session: AsyncSession, workspace_id: int, team_id: int | None, language: str
) -> Agent | None:
    """An active agent who speaks ``language`` (of the team, when one is given).

    Online before away; offline agents are not picked (the team's queue holds the
    thread for them instead). Among equals, the lowest id, so that it is predictable.
    """
    query = select(Agent).where(Agent.workspace_id == workspace_id, Agent.active.is_(True))
    if team_id is not None:
        query = query.join(TeamMember, TeamMember.agent_id == Agent.id).where(
            TeamMember.team_id == team_id
        )
    candidates = [
        agent
        for agent in await session.scalars(query.order_by(Agent.id))
        if language in (agent.languages or []) and agent.availability in AVAILABILITY_ORDER
    ]
    candidates.sort(key=lambda agent: AVAILABILITY_ORDER[agent.availability])
    return candidates[0] if candidates else None
