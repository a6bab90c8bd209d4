from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from onethread.agents.models import Availability, Domain, Role
from onethread.agents.passwords import MIN_PASSWORD_LENGTH
from onethread.db.types import Id


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=1, max_length=1000)
    workspace_id: Id | None = Field(
        default=None, description="Needed only when the email belongs to several workspaces."
    )


class AgentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    workspace_id: int
    email: str
    name: str
    role: Role
    availability: Availability
    languages: list[str]
    active: bool
    created_at: datetime


class LoginOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: datetime
    agent: AgentOut


class AgentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.AGENT
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=1000)
    languages: list[str] = Field(default_factory=list)


class AgentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    active: bool | None = None
    languages: list[str] | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=1000)


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    availability: Availability | None = None
    languages: list[str] | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=1000)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    scopes: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="e.g. ['conversations:read']; omitted: the agent's full access "
        "(docs/api-tokens.md).",
    )


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    scopes: list[str] | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; only its hash is stored.")


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    domain: Domain = Domain.SUPPORT
    member_ids: list[Id] = Field(default_factory=list)


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    domain: Domain | None = None
    member_ids: list[Id] | None = None


class TeamOut(BaseModel):
    id: int
    name: str
    domain: Domain
    member_ids: list[int]
    created_at: datetime
