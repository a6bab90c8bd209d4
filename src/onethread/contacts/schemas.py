from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onethread.db.types import Id


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    external_id: str
    display_name: str | None
    phone: str | None
    email: str | None
    verified: bool
    created_at: datetime


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str | None
    email: str | None
    phone: str | None
    language: str | None
    attributes: dict[str, Any]
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime


class ContactDetail(ContactOut):
    identities: list[IdentityOut]


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, max_length=16)
    attributes: dict[str, Any] = Field(default_factory=dict)


class ContactUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, max_length=16)
    attributes: dict[str, Any] | None = Field(
        default=None, description="Merged into the current attributes; a null value removes one."
    )


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: Id = Field(description="The contact folded into this one, then retired.")


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None


class RejectedRowOut(BaseModel):
    line: int = Field(description="Where the row starts in the file (the header is line 1).")
    reason: str


class ImportReportOut(BaseModel):
    rows: int = Field(description="Data rows read (blank lines skipped).")
    created: int
    updated: int
    unchanged: int
    rejected: list[RejectedRowOut]
    dry_run: bool
