"""A sliding-window counter of failures per key, for sign-in throttling."""

from __future__ import annotations

import math
import time
from collections import deque


class SlidingWindowLimiter:
    """Allows ``limit`` hits per ``window`` seconds and key; in process memory.

    Several serve processes each keep their own window; the Redis-backed variant
    for scaled deployments comes with the production issue.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}

    def _trim(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return deque()
        return hits

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it may now."""
        now = time.monotonic()
        hits = self._trim(key, now)
        if len(hits) < self.limit:
            return 0
        return max(1, math.ceil(hits[0] + self.window - now))

    def hit(self, key: str) -> None:
        now = time.monotonic()
        hits = self._trim(key, now)
        hits.append(now)
        self._hits[key] = hits

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)
