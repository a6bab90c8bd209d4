from __future__ import annotations

from datetime import datetime, time

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class OpeningHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: str = Field(description="mon..sun")
    start: time
    end: time

    @field_validator("day")
    @classmethod
    def known_day(cls, value: str) -> str:
        if value not in WEEKDAYS:
            raise ValueError(f"day must be one of {', '.join(WEEKDAYS)}")
        return value

    @model_validator(mode="after")
    def ordered(self) -> OpeningHours:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class WorkspaceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reopen_window_hours: int = Field(
        default=72,
        ge=0,
        le=24 * 90,
        description="A message this long after resolution reopens the thread; later starts anew.",
    )
    timezone: str = "UTC"
    business_hours: list[OpeningHours] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value


class WorkspaceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    settings: WorkspaceSettings
    created_at: datetime


class WorkspaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    settings: WorkspaceSettings | None = None
