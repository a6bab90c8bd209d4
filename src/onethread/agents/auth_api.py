"""Sign-in, sign-out, the caller's profile and API tokens."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Request, Response

from onethread.agents import actions, service
from onethread.agents.models import TokenKind
from onethread.agents.passwords import DUMMY_HASH, verify_password
from onethread.agents.schemas import (
    AgentOut,
    LoginIn,
    LoginOut,
    ProfileUpdate,
    TokenCreate,
    TokenCreated,
    TokenOut,
)
from onethread.agents.scopes import unknown_scopes, within
from onethread.api.deps import SESSION_COOKIE, Context, CurrentCaller, ReadSession, WriteSession
from onethread.db.types import Id, utcnow
from onethread.errors import Forbidden, InvalidInput, NotAuthenticated, RateLimited

router = APIRouter(tags=["auth"])


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/auth/login", response_model=LoginOut)
async def login(
    body: LoginIn, request: Request, response: Response, context: Context, session: WriteSession
) -> LoginOut:
    """Check email and password; set the session cookie and return a bearer token."""
    limiter = context.login_limiter
    keys = [f"account:{body.email.lower()}", f"address:{_client_address(request)}"]
    # Each attempt counts as a failure before its password is checked, in one step with
    # the check (concurrent guesses cannot all pass it); a right password gives it back.
    taken: list[tuple[str, str]] = []
    for key in keys:
        wait, hit = await limiter.take(key)
        if wait:
            for done_key, done_hit in taken:
                await limiter.give_back(done_key, done_hit)
            raise RateLimited(f"too many failed sign-ins; try again in {wait} s", retry_after=wait)
        if hit is not None:
            taken.append((key, hit))

    async with context.db.read_session() as read:  # no write lock while hashes are checked
        candidates = await service.agents_by_email(read, body.email)
    if body.workspace_id is not None:
        candidates = [a for a in candidates if a.workspace_id == body.workspace_id]
    matched = [
        agent
        for agent in candidates
        if await asyncio.to_thread(verify_password, agent.password_hash, body.password)
    ]
    if not candidates:
        await asyncio.to_thread(verify_password, DUMMY_HASH, body.password)
    if not matched:
        raise NotAuthenticated("wrong email or password")  # the attempt stays counted
    for key, hit in taken:
        await limiter.give_back(key, hit)
    if len(matched) > 1:
        raise InvalidInput(
            "this email signs in to several workspaces; add workspace_id",
            details={"workspace_ids": [a.workspace_id for a in matched]},
        )
    agent = matched[0]
    await limiter.reset(keys[0])
    expires_at = utcnow() + timedelta(days=context.settings.session_days)
    _, token = await actions.do_create_token(
        session, agent, name="browser sign-in", kind=TokenKind.SESSION, expires_at=expires_at
    )
    await session.commit()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=context.settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=context.settings.public_url.startswith("https://"),
    )
    return LoginOut(token=token, expires_at=expires_at, agent=AgentOut.model_validate(agent))


@router.post("/auth/logout", status_code=204)
async def logout(caller: CurrentCaller, session: WriteSession, response: Response) -> None:
    token = await service.access_token(session, caller.agent, caller.token.id)
    await actions.do_revoke_token(session, token)
    await session.commit()
    response.delete_cookie(SESSION_COOKIE)


@router.get("/auth/me", response_model=AgentOut)
async def me(caller: CurrentCaller) -> AgentOut:
    return AgentOut.model_validate(caller.agent)


@router.patch("/auth/me", response_model=AgentOut)
async def update_profile(
    body: ProfileUpdate, caller: CurrentCaller, session: WriteSession
) -> AgentOut:
    if body.password is not None:
        caller.require_unscoped("change a password")
    agent = await service.access_agent(session, caller.workspace_id, caller.agent.id)
    await actions.do_update_agent(
        session,
        agent,
        by_agent_id=agent.id,
        name=body.name,
        availability=body.availability,
        languages=body.languages,
        password=body.password,
    )
    await session.commit()
    return AgentOut.model_validate(agent)


@router.get("/tokens", response_model=list[TokenOut])
async def list_tokens(caller: CurrentCaller, session: ReadSession) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in await service.list_tokens(session, caller.agent)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
async def create_token(
    body: TokenCreate, caller: CurrentCaller, session: WriteSession
) -> TokenCreated:
    if body.scopes is not None and (unknown := unknown_scopes(body.scopes)):
        raise InvalidInput(f"unknown scopes: {', '.join(unknown)}", details={"unknown": unknown})
    if not within(body.scopes, caller.token.scopes):
        raise Forbidden("a scoped token can only create tokens with scopes it holds")
    expires_at = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    row, token = await actions.do_create_token(
        session,
        caller.agent,
        name=body.name,
        expires_at=expires_at,
        scopes=sorted(set(body.scopes)) if body.scopes is not None else None,
    )
    await session.commit()
    return TokenCreated(token=token, **TokenOut.model_validate(row).model_dump())


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: Id, caller: CurrentCaller, session: WriteSession) -> None:
    token = await service.access_token(session, caller.agent, token_id)
    await actions.do_revoke_token(session, token)
    await session.commit()
