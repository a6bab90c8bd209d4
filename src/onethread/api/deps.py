"""``Annotated`` dependency aliases: the app context, sessions, and who is calling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.models import Agent, ApiToken, Role
from onethread.agents.scopes import allows, needed_scope
from onethread.agents.service import agent_for_token
from onethread.api.context import AppContext
from onethread.errors import Forbidden, NotAuthenticated

SESSION_COOKIE = "onethread_session"


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


async def _write_session(context: Context) -> AsyncIterator[AsyncSession]:
    """One unit of work per request; the view commits, anything uncommitted rolls back."""
    async with context.db.sessions() as session:
        yield session


async def _read_session(context: Context) -> AsyncIterator[AsyncSession]:
    async with context.db.read_sessions() as session:
        yield session


WriteSession = Annotated[AsyncSession, Depends(_write_session)]
ReadSession = Annotated[AsyncSession, Depends(_read_session)]


@dataclass
class Caller:
    agent: Agent
    token: ApiToken

    @property
    def workspace_id(self) -> int:
        return self.agent.workspace_id

    @property
    def is_admin(self) -> bool:
        return self.agent.role == Role.ADMIN.value

    def require_unscoped(self, what: str) -> None:
        """Refuse ``what`` to a scoped token: setting a password or creating an account
        would let it sign in with full access, and a scope never widens (docs/api-tokens.md)."""
        if self.token.scopes is not None:
            raise Forbidden(
                f"a scoped API token cannot {what}; sign in or use an unscoped token",
                details={"missing_scope": "unscoped"},
            )


def presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


async def current_caller(request: Request, context: Context) -> Caller:
    token = presented_token(request)
    if not token:
        raise NotAuthenticated("sign in or send 'Authorization: Bearer <token>'")
    async with context.db.read_sessions() as session:
        found = await agent_for_token(session, token)
    if found is None:
        raise NotAuthenticated("the token is unknown, revoked or expired")
    caller = Caller(*found)
    if caller.token.scopes is not None:
        _check_scope(request, caller.token.scopes)
    return caller


def _check_scope(request: Request, scopes: list[str]) -> None:
    """A scoped token reaches only the areas it names (agents/scopes.py)."""
    route = request.scope.get("route")
    needed = needed_scope(getattr(route, "tags", None) or [], request.method)
    if not allows(scopes, needed):
        raise Forbidden(
            f"this token lacks the scope {needed}" if needed else "this token is scoped",
            details={"missing_scope": needed},
        )


async def admin_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    if not caller.is_admin:
        raise Forbidden("this needs the admin role")
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]
AdminCaller = Annotated[Caller, Depends(admin_caller)]
