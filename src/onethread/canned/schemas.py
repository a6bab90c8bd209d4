from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

SHORTCUT = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class CannedCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shortcut: str = Field(pattern=SHORTCUT, description="Typed as /shortcut in the composer.")
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=10_000)


class CannedUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shortcut: str | None = Field(default=None, pattern=SHORTCUT)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    text: str | None = Field(default=None, min_length=1, max_length=10_000)


class CannedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shortcut: str
    title: str
    text: str
    created_at: datetime
    updated_at: datetime
