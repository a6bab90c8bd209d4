from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, IdMixin, TimestampMixin
from onethread.db.types import JsonDoc


class Workspace(IdMixin, TimestampMixin, Base):
    """A tenant. ``settings`` holds a serialized ``WorkspaceSettings``."""

    __tablename__ = "workspaces"

    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
