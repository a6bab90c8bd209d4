"""What the running app holds: built by ``create_app``'s lifespan, read by dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field

from onethread.api.ratelimit import RateLimiter, RateLimits
from onethread.db.database import Database
from onethread.events.bus import EventBus
from onethread.inboxes.secrets import SecretBox
from onethread.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    bus: EventBus
    secrets: SecretBox
    login_limiter: RateLimiter
    rate_limits: RateLimits = field(default_factory=RateLimits)
    extras: dict[str, object] = field(default_factory=dict)
