from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, IdMixin, TimestampMixin, WorkspaceScoped
from onethread.db.types import JsonDoc, UTCDateTime


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"


class Availability(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Domain(StrEnum):
    """The internal label of a topic or team; customers never see it."""

    SERVICE = "service"
    SUPPORT = "support"


class Agent(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.AGENT.value)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    availability: Mapped[str] = mapped_column(String(16), default=Availability.OFFLINE.value)
    languages: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Team(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(16), default=Domain.SUPPORT.value)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class TokenKind(StrEnum):
    SESSION = "session"
    API = "api"


class ApiToken(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """Only the SHA-256 of a token is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default=TokenKind.API.value)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None: the agent's full access (sessions, older tokens); else only these (agents/scopes.py).
    scopes: Mapped[list[str] | None] = mapped_column(JsonDoc)
