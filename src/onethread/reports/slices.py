"""The dimensions a report is cut by, as portable SQL conditions over the projection."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, Table

from onethread.reports.models import ReportConversation

CONVERSATIONS = cast(Table, ReportConversation.__table__)
C = CONVERSATIONS.c


@dataclass(frozen=True)
class Slices:
    """Each set field restricts the conversations; ``plan`` restricts the customers only."""

    channel: str | None = None
    inbox_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None
    topic: str | None = None
    domain: Literal["service", "support"] | None = None
    language: str | None = None
    handler: Literal["ai", "human"] | None = None
    plan: str | None = None

    def conditions(self, workspace_id: int) -> list[ColumnElement[bool]]:
        """The workspace first (tenancy), then every conversation slice that is set."""
        found: list[ColumnElement[bool]] = [C.workspace_id == workspace_id]
        for name in CONVERSATION_SLICES:
            value = getattr(self, name)
            if value is not None:
                found.append(C[name] == value)
        return found

    @property
    def slices_conversations(self) -> bool:
        return any(getattr(self, name) is not None for name in CONVERSATION_SLICES)

    def as_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


CONVERSATION_SLICES = tuple(f.name for f in fields(Slices) if f.name != "plan")


@dataclass(frozen=True)
class Scope:
    """Whose conversations, cut how, and whether durations count business hours only."""

    workspace_id: int
    slices: Slices
    business_hours: bool = False

    def where(self) -> list[ColumnElement[bool]]:
        return self.slices.conditions(self.workspace_id)

    def duration(self, name: str) -> ColumnElement[Any]:
        """A duration column, or its business-hours variant."""
        return C[f"{name}_bh_s" if self.business_hours else f"{name}_s"]
