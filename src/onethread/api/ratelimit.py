"""Sliding-window rate limits per key: in process memory, or in Redis across processes.

``RateLimits`` hands out limiters of one kind for the whole app: Redis-backed when
``ONETHREAD_REDIS_URL`` is set, so that N failed sign-ins spread over several serve
processes count as N; in memory otherwise. A Redis limiter fails open: while Redis is
unreachable every key may go on (a warning is logged at most once a minute), because
sign-in must keep working when Redis is down.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import redis.asyncio as redis

log = logging.getLogger(__name__)

KEY_PREFIX = "onethread:ratelimit"
REDIS_TIMEOUT_SECONDS = 0.5
WARN_EVERY_SECONDS = 60.0


class RateLimiter(Protocol):
    """Allows ``limit`` hits per ``window`` seconds and key."""

    limit: int
    window: float

    async def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it may now."""
        ...

    async def hit(self, key: str) -> None:
        """Count one hit for ``key``."""
        ...

    async def reset(self, key: str) -> None:
        """Forget ``key``'s hits."""
        ...

    async def take(self, key: str) -> tuple[int, str | None]:
        """Check and count in one step: ``(0, hit id)`` when ``key`` may go on (the hit is
        counted), else ``(seconds to wait, None)``. Concurrent callers never all slip
        past a check made before any of them counted."""
        ...

    async def give_back(self, key: str, hit: str) -> None:
        """Uncount one hit ``take`` counted (a sign-in that turned out right)."""
        ...


def _wait(hits_in_window: list[float], limit: int, window: float, now: float) -> int:
    """Seconds until fewer than ``limit`` of ``hits_in_window`` (oldest first) remain."""
    if len(hits_in_window) < limit:
        return 0
    expiring = hits_in_window[len(hits_in_window) - limit]
    return max(1, math.ceil(expiring + window - now))


class SlidingWindowLimiter:
    """A window per key in this process's memory (one serve process)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[tuple[float, str]]] = {}

    def _trim(self, key: str, now: float) -> deque[tuple[float, str]]:
        hits = self._hits.get(key, deque())
        while hits and hits[0][0] <= now - self.window:
            hits.popleft()
        if not hits:
            self._hits.pop(key, None)
        return hits

    def _wait(self, key: str, now: float) -> int:
        return _wait([at for at, _ in self._trim(key, now)], self.limit, self.window, now)

    async def retry_after(self, key: str) -> int:
        return self._wait(key, time.monotonic())

    async def hit(self, key: str) -> None:
        await self.take_anyway(key)

    async def take_anyway(self, key: str) -> str:
        now = time.monotonic()
        hits = self._trim(key, now)
        hit = uuid.uuid4().hex
        hits.append((now, hit))
        self._hits[key] = hits
        return hit

    async def take(self, key: str) -> tuple[int, str | None]:
        # No await between the check and the count: atomic on the event loop.
        wait = self._wait(key, time.monotonic())
        if wait:
            return wait, None
        return 0, await self.take_anyway(key)

    async def give_back(self, key: str, hit: str) -> None:
        hits = self._hits.get(key)
        if hits is not None:
            kept = deque(entry for entry in hits if entry[1] != hit)
            if kept:
                self._hits[key] = kept
            else:
                del self._hits[key]

    async def reset(self, key: str) -> None:
        self._hits.pop(key, None)


# Scores are Redis's own clock, so that processes on several hosts share one time line.
_NOW = "local t = redis.call('TIME') local now = t[1] + t[2] / 1000000 "
_TRIM = "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1])) "
# -> {now as text, the scores of the hits still in the window, oldest first}
RETRY_AFTER_SCRIPT = (
    _NOW + _TRIM + "return {tostring(now), redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')}"
)
# -> {0, ""} when counted, else {now as text, the scores in the window}: one step, so that
# concurrent callers cannot all pass the check before any of them counted.
TAKE_SCRIPT = (
    _NOW
    + _TRIM
    + "if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then "
    + "redis.call('ZADD', KEYS[1], now, ARGV[2]) "
    + "redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 1000)) return {'0', {}} end "
    + "return {tostring(now), redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')}"
)
HIT_SCRIPT = (
    _NOW
    + _TRIM
    + "redis.call('ZADD', KEYS[1], now, ARGV[2]) "
    + "redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 1000)) return 1"
)


class RedisOutage:
    """Logs that Redis is unreachable, at most once per ``WARN_EVERY_SECONDS``."""

    def __init__(self) -> None:
        self._warned_at = -math.inf

    def report(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("rate limits are not enforced: Redis is unreachable (%s)", error)


class RedisSlidingWindowLimiter:
    """The same window as ``SlidingWindowLimiter``, as one sorted set per key in Redis."""

    def __init__(
        self, client: redis.Redis, namespace: str, limit: int, window: float, outage: RedisOutage
    ) -> None:
        self.limit = limit
        self.window = window
        self._client = client
        self._namespace = namespace
        self._outage = outage
        # Sent by hash (EVALSHA), loaded again by redis-py if the server forgot it.
        self._scripts = {
            script: client.register_script(script)
            for script in (RETRY_AFTER_SCRIPT, HIT_SCRIPT, TAKE_SCRIPT)
        }

    def _key(self, key: str) -> str:
        return f"{self._namespace}:{key}"

    async def _run(self, script: str, key: str, *args: Any) -> Any:
        from redis.exceptions import RedisError

        try:
            return await self._scripts[script](keys=[self._key(key)], args=[self.window, *args])
        except (RedisError, OSError) as error:
            self._outage.report(error)
            return None

    async def retry_after(self, key: str) -> int:
        answer = await self._run(RETRY_AFTER_SCRIPT, key)
        if answer is None:
            return 0  # fail open
        now, flat = float(answer[0]), answer[1]
        scores = [float(score) for score in flat[1::2]]
        return _wait(scores, self.limit, self.window, now)

    async def hit(self, key: str) -> None:
        await self._run(HIT_SCRIPT, key, uuid.uuid4().hex)

    async def take(self, key: str) -> tuple[int, str | None]:
        hit = uuid.uuid4().hex
        answer = await self._run(TAKE_SCRIPT, key, hit, self.limit)
        if answer is None:
            return 0, None  # fail open
        now, flat = float(answer[0]), answer[1]
        if now == 0:
            return 0, hit
        scores = [float(score) for score in flat[1::2]]
        return max(_wait(scores, self.limit, self.window, now), 1), None

    async def give_back(self, key: str, hit: str) -> None:
        from redis.exceptions import RedisError

        try:
            await self._client.zrem(self._key(key), hit)
        except (RedisError, OSError) as error:
            self._outage.report(error)

    async def reset(self, key: str) -> None:
        from redis.exceptions import RedisError

        try:
            await self._client.delete(self._key(key))
        except (RedisError, OSError) as error:
            self._outage.report(error)


class RateLimits:
    """Makes the app's limiters: in Redis when a URL is given, else in memory."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._client: redis.Redis | None = None
        self._namespace = KEY_PREFIX
        self._outage = RedisOutage()
        if redis_url:
            import redis.asyncio as redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            # No retries: a limiter that cannot reach Redis at once fails open at once.
            self._client = redis.from_url(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),
            )
            # Deployments sharing one Redis server on different db numbers stay apart.
            db = int(self._client.connection_pool.connection_kwargs.get("db") or 0)
            self._namespace = f"{KEY_PREFIX}@{db}"

    @property
    def shared(self) -> bool:
        return self._client is not None

    def sliding_window(self, name: str, limit: int, window: float) -> RateLimiter:
        if self._client is None:
            return SlidingWindowLimiter(limit, window)
        return RedisSlidingWindowLimiter(
            self._client, f"{self._namespace}:{name}", limit, window, self._outage
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
