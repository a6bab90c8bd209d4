"""API token scopes: ``<area>:read`` and ``<area>:write``, one area per API router tag.

A request needs ``<area>:read`` for GET and HEAD, ``<area>:write`` for any other method,
where the area is the route's tag (``canned responses`` → ``canned_responses``); ``write``
implies ``read``. A token without scopes (every browser sign-in, and tokens created
before scopes existed or without them) has the agent's full access. Scopes only narrow
what the agent's role allows: an agent's token never reaches an admin-only route.
"""

from __future__ import annotations

from collections.abc import Iterable

AREAS = (
    "agents",
    "assistant",
    "auth",
    "canned_responses",
    "contacts",
    "conversations",
    "events",
    "inboxes",
    "jobs",
    "knowledge",
    "playbook",
    "realtime",
    "reports",
    "surveys",
    "webhooks",
    "workspace",
)
SCOPES = tuple(f"{area}:{access}" for area in AREAS for access in ("read", "write"))
READ_METHODS = frozenset({"GET", "HEAD"})


def area_of(tag: str) -> str:
    return tag.strip().lower().replace(" ", "_")


def needed_scope(tags: Iterable[str], method: str) -> str | None:
    """The scope a request to a route with ``tags`` needs; None for an untagged route."""
    first = next(iter(tags), None)
    if first is None:
        return None
    return f"{area_of(first)}:{'read' if method.upper() in READ_METHODS else 'write'}"


def expand(scopes: Iterable[str]) -> set[str]:
    """The scopes granted, with the ``read`` each ``write`` implies."""
    granted = set(scopes)
    return granted | {s.removesuffix(":write") + ":read" for s in granted if s.endswith(":write")}


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    return sorted(set(scopes) - set(SCOPES))


def allows(scopes: list[str] | None, needed: str | None) -> bool:
    if scopes is None:
        return True
    return needed is not None and needed in expand(scopes)


def within(requested: list[str] | None, held: list[str] | None) -> bool:
    """Whether a token holding ``held`` may create one with ``requested`` (never wider)."""
    if held is None:
        return True
    return requested is not None and set(requested) <= expand(held)
