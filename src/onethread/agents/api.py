"""Agents and teams of the caller's workspace."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents import actions, service
from onethread.agents.models import Domain, Team
from onethread.agents.schemas import (
    AgentCreate,
    AgentOut,
    AgentUpdate,
    TeamCreate,
    TeamOut,
    TeamUpdate,
)
from onethread.api.deps import AdminCaller, CurrentCaller, ReadSession, WriteSession
from onethread.db.types import Id

router = APIRouter(tags=["agents"])


@router.get("/agents", response_model=list[AgentOut])
async def list_agents(caller: CurrentCaller, session: ReadSession) -> list[AgentOut]:
    agents = await service.list_agents(session, caller.workspace_id)
    return [AgentOut.model_validate(agent) for agent in agents]


@router.post("/agents", response_model=AgentOut, status_code=201)
async def create_agent(body: AgentCreate, caller: AdminCaller, session: WriteSession) -> AgentOut:
    caller.require_unscoped("create an agent")
    agent = await actions.do_create_agent(
        session,
        caller.workspace_id,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        languages=body.languages,
        by_agent_id=caller.agent.id,
    )
    await session.commit()
    return AgentOut.model_validate(agent)


@router.get("/agents/{agent_id}", response_model=AgentOut)
async def get_agent(agent_id: Id, caller: CurrentCaller, session: ReadSession) -> AgentOut:
    return AgentOut.model_validate(
        await service.access_agent(session, caller.workspace_id, agent_id)
    )


@router.patch("/agents/{agent_id}", response_model=AgentOut)
async def update_agent(
    agent_id: Id, body: AgentUpdate, caller: AdminCaller, session: WriteSession
) -> AgentOut:
    if body.password is not None or body.role is not None:
        caller.require_unscoped("set a password or a role")
    agent = await service.access_agent(session, caller.workspace_id, agent_id)
    await actions.do_update_agent(
        session,
        agent,
        by_agent_id=caller.agent.id,
        name=body.name,
        role=body.role,
        active=body.active,
        languages=body.languages,
        password=body.password,
    )
    await session.commit()
    return AgentOut.model_validate(agent)


async def _team_out(session: AsyncSession, team: Team) -> TeamOut:
    members = await service.team_member_ids(session, [team.id])
    return TeamOut(
        id=team.id,
        name=team.name,
        domain=Domain(team.domain),
        member_ids=members[team.id],
        created_at=team.created_at,
    )


@router.get("/teams", response_model=list[TeamOut])
async def list_teams(caller: CurrentCaller, session: ReadSession) -> list[TeamOut]:
    teams = await service.list_teams(session, caller.workspace_id)
    members = await service.team_member_ids(session, [team.id for team in teams])
    return [
        TeamOut(
            id=t.id,
            name=t.name,
            domain=Domain(t.domain),
            member_ids=members[t.id],
            created_at=t.created_at,
        )
        for t in teams
    ]


@router.post("/teams", response_model=TeamOut, status_code=201)
async def create_team(body: TeamCreate, caller: AdminCaller, session: WriteSession) -> TeamOut:
    team = await actions.do_create_team(
        session,
        caller.workspace_id,
        name=body.name,
        domain=body.domain.value,
        member_ids=body.member_ids,
        by_agent_id=caller.agent.id,
    )
    await session.commit()
    return await _team_out(session, team)


@router.get("/teams/{team_id}", response_model=TeamOut)
async def get_team(team_id: Id, caller: CurrentCaller, session: ReadSession) -> TeamOut:
    return await _team_out(
        session, await service.access_team(session, caller.workspace_id, team_id)
    )


@router.patch("/teams/{team_id}", response_model=TeamOut)
async def update_team(
    team_id: Id, body: TeamUpdate, caller: AdminCaller, session: WriteSession
) -> TeamOut:
    team = await service.access_team(session, caller.workspace_id, team_id)
    await actions.do_update_team(
        session,
        team,
        by_agent_id=caller.agent.id,
        name=body.name,
        domain=body.domain.value if body.domain else None,
        member_ids=body.member_ids,
    )
    await session.commit()
    return await _team_out(session, team)
