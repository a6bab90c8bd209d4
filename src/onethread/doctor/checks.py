"""The deployment checks: settings, database, migrations, Redis, public URL, worker.

Each check answers in plain words what is right or what to fix; a check that needs the
database is skipped (not failed twice) when the database cannot be reached.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from onethread.db import migrate
from onethread.db.database import Database
from onethread.doctor.providers import check_inboxes
from onethread.doctor.result import Finding, fail, ok, skip, warn
from onethread.inboxes.secrets import SecretBox
from onethread.outbox.service import live_workers
from onethread.settings import SECRET_KEY_FILE, Settings

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


def check_settings(settings: Settings) -> list[Finding]:
    found: list[Finding] = []
    embedded = settings.is_sqlite
    if settings.secret_key:
        found.append(ok("secret key", "ONETHREAD_SECRET_KEY is set."))
    elif embedded:
        path = settings.data_dir / SECRET_KEY_FILE
        found.append(
            ok("secret key", f"generated and kept in {path}.")
            if path.exists()
            else warn("secret key", f"none yet: `onethread serve` makes one in {path}.")
        )
    else:
        found.append(
            fail(
                "secret key",
                "ONETHREAD_SECRET_KEY is not set. With PostgreSQL several processes share the "
                "database, and each would make up its own key: set the same key everywhere.",
            )
        )
    parts = urlsplit(settings.public_url)
    local = (parts.hostname or "") in LOCAL_HOSTS
    if parts.scheme == "https" and not local:
        found.append(ok("public URL setting", f"{settings.public_url} is public and uses https."))
    else:
        problem = "points at this machine" if local else "does not use https"
        detail = (
            f"ONETHREAD_PUBLIC_URL {settings.public_url} {problem}: providers cannot deliver "
            "webhooks to it, and their signatures are checked against it."
        )
        # The embedded default is also a trial setup on a laptop; only a deployment must fix it.
        found.append(
            warn("public URL setting", detail) if embedded else fail("public URL setting", detail)
        )
    if not embedded and not settings.redis_url:
        found.append(
            warn(
                "redis setting",
                "ONETHREAD_REDIS_URL is not set: with several serve processes, agents only see "
                "live what happens on the process they are connected to.",
            )
        )
    return found


async def check_database(db: Database, settings: Settings) -> Finding:
    if settings.is_sqlite:
        path = make_url(settings.resolved_database_url).database or ""
        if path and not await asyncio.to_thread(Path(path).exists):
            return fail(
                "database",
                f"no database file at {path}: run `onethread db upgrade` (or start "
                "`onethread serve`, which creates it).",
            )
    version_query = "SELECT sqlite_version()" if db.is_sqlite else "SHOW server_version"
    try:
        async with db.read_session() as session:
            version = await session.scalar(text(version_query))
    except Exception as exc:
        return fail("database", f"cannot connect to {_safe_url(settings)}: {_reason(exc)}")
    kind = "SQLite" if db.is_sqlite else "PostgreSQL"
    return ok("database", f"{kind} {version} at {_safe_url(settings)} answers.")


async def check_migrations(db: Database) -> Finding:
    current = await migrate.current_revision(db.engine)
    head = migrate.head_revision()
    if current == head:
        return ok("migrations", f"the schema is at the newest revision ({head}).")
    if current is None:
        return fail("migrations", "the database is empty: run `onethread db upgrade`.")
    return fail(
        "migrations",
        f"the schema is at {current}, this version needs {head}: run `onethread db upgrade`.",
    )


async def check_worker(db: Database) -> Finding:
    async with db.read_session() as session:
        workers = await live_workers(session)
    if workers:
        return ok("worker", f"{len(workers)} worker(s) beat their heartbeat in the last 30 s.")
    return fail(
        "worker",
        "no worker has beaten its heartbeat in the last 30 s: replies and assistant turns "
        "wait in the queue. Start `onethread worker` (or `onethread serve` without --no-worker).",
    )


async def check_redis(settings: Settings, wait_seconds: float) -> Finding | None:
    if not settings.redis_url:
        return None
    try:
        import redis.asyncio as redis
    except ImportError:
        return fail(
            "redis",
            "ONETHREAD_REDIS_URL is set but the redis package is not installed: "
            "install onethread[redis].",
        )
    client = redis.from_url(
        settings.redis_url, socket_connect_timeout=wait_seconds, socket_timeout=wait_seconds
    )
    try:
        await asyncio.wait_for(client.ping(), wait_seconds)
        info = await client.info("server")
    except Exception as exc:
        return fail("redis", f"cannot reach Redis at {_safe(settings.redis_url)}: {_reason(exc)}")
    finally:
        await client.aclose()
    return ok(
        "redis", f"Redis {info.get('redis_version', '?')} at {_safe(settings.redis_url)} answers."
    )


async def check_public_url(settings: Settings, wait_seconds: float) -> Finding:
    url = settings.public_path_url("/healthz")
    try:
        async with httpx.AsyncClient(timeout=wait_seconds) as http:
            response = await http.get(url)
    except httpx.HTTPError as exc:
        return fail(
            "public URL",
            f"GET {url} failed: {_reason(exc)}. Providers cannot reach onethread there either.",
        )
    if response.status_code != 200:
        return fail("public URL", f"GET {url} answered {response.status_code}, not 200.")
    return ok("public URL", f"GET {url} answers 200.")


def _secret_box(settings: Settings) -> SecretBox | None:
    """The key inbox secrets were sealed with; never generates one, unlike serving."""
    key = settings.existing_secret_key()
    return SecretBox(key) if key is not None else None


async def run_checks(settings: Settings, *, wait_seconds: float = 5.0) -> list[Finding]:
    findings = check_settings(settings)
    redis_finding, url_finding = await asyncio.gather(
        check_redis(settings, wait_seconds), check_public_url(settings, wait_seconds)
    )
    db = Database(settings.resolved_database_url)
    try:
        database = await check_database(db, settings)
        findings.append(database)
        if database.failed:
            why = "the database cannot be reached"
            findings += [skip(name, why) for name in ("migrations", "worker", "inboxes")]
        else:
            migrations = await check_migrations(db)
            findings.append(migrations)
            if migrations.failed:
                why = "the schema is not up to date"
                findings += [skip(name, why) for name in ("worker", "inboxes")]
            else:
                findings.append(await check_worker(db))
                findings += await check_inboxes(db, _secret_box(settings), wait_seconds)
    finally:
        await db.dispose()
    findings += [finding for finding in (redis_finding, url_finding) if finding is not None]
    return findings


def _safe_url(settings: Settings) -> str:
    return _safe(settings.resolved_database_url)


def _safe(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.rsplit("@", maxsplit=1)[-1]


def _reason(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text_}" if text_ else type(exc).__name__
