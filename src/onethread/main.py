"""``create_app(settings)``: the API, and on request the in-process worker. No I/O at import."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse

from onethread import __version__
from onethread.agents import api as agents_api
from onethread.agents import auth_api
from onethread.api.body_limit import BodyLimit, path_limits
from onethread.api.context import AppContext
from onethread.api.deps import Context
from onethread.api.errors import install_error_handlers
from onethread.api.ratelimit import RateLimits
from onethread.assistant import api as assistant_api
from onethread.canned import api as canned_api
from onethread.channels import api as webhooks_api
from onethread.channels import widget_api
from onethread.contacts import api as contacts_api
from onethread.conversations import api as conversations_api
from onethread.db import migrate
from onethread.db.database import Database
from onethread.events import api as events_api
from onethread.events.bus import create_bus
from onethread.events.log import install_publish_after_commit
from onethread.health import router as health_router
from onethread.inboxes import api as inboxes_api
from onethread.inboxes.secrets import SecretBox
from onethread.integrations import api as integrations_api
from onethread.integrations.enqueue import install_webhook_enqueue
from onethread.jobs.context import JobContext
from onethread.jobs.worker import Worker
from onethread.knowledge import api as knowledge_api
from onethread.observability import api as metrics_api
from onethread.observability.request_id import RequestContextMiddleware
from onethread.outbox import api as outbox_api
from onethread.playbook import api as playbook_api
from onethread.realtime import api as realtime_api
from onethread.realtime.hub import running_hub
from onethread.reports import api as reports_api
from onethread.review import api as review_api
from onethread.settings import Settings
from onethread.surveys import api as surveys_api
from onethread.web import routes as web_routes
from onethread.workspaces import api as workspaces_api

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (
        auth_api,
        agents_api,
        workspaces_api,
        inboxes_api,
        contacts_api,
        conversations_api,
        events_api,
        outbox_api,
        playbook_api,
        assistant_api,
        canned_api,
        surveys_api,
        knowledge_api,
        widget_api,
        realtime_api,
        reports_api,
        review_api,
        integrations_api,
    ):
        router.include_router(module.router)
    return router


def create_app(
    settings: Settings | None = None,
    *,
    run_worker: bool = False,
    auto_migrate: bool | None = None,
) -> FastAPI:
    """Build the app. ``auto_migrate`` defaults to on for the embedded SQLite database."""
    settings = settings or Settings()
    migrate_on_start = settings.is_sqlite if auto_migrate is None else auto_migrate

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_publish_after_commit()
        install_webhook_enqueue()
        db = Database(
            settings.resolved_database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        if migrate_on_start:
            await migrate.upgrade(db.engine)
        bus = create_bus(settings.redis_url)
        await bus.start()
        db.set_publisher(bus.publish)
        rate_limits = RateLimits(settings.redis_url)
        context = AppContext(
            settings=settings,
            db=db,
            bus=bus,
            secrets=SecretBox(settings.effective_secret_key),
            login_limiter=rate_limits.sliding_window(
                "login", settings.login_attempts, settings.login_window_seconds
            ),
            rate_limits=rate_limits,
        )
        app.state.context = context
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(running_hub(context))
            if run_worker:
                await stack.enter_async_context(running_worker(context))
            # What start-up loaded lives as long as the process: keep it out of the
            # collector's full passes, which otherwise add tens of ms to one request in
            # a few hundred (docs/benchmarks.md).
            gc.freeze()
            yield
        await bus.stop()
        await rate_limits.close()
        await db.dispose()

    app = FastAPI(
        title="onethread",
        version=__version__,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        description="One front door for every customer conversation. Authenticate with "
        "`POST /api/v1/auth/login` or an API token: `Authorization: Bearer <token>`.",
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit, default=settings.max_body_bytes, paths=path_limits(API_PREFIX))
    # Outermost: every answer, a refusal included, carries the request id.
    app.add_middleware(RequestContextMiddleware)
    # Routing tries routes in order: the webhooks, the hottest path, match first.
    app.include_router(webhooks_api.router)
    app.include_router(health_router)
    app.include_router(metrics_api.router)
    app.include_router(api_router())
    app.include_router(widget_api.script_router)

    app.include_router(web_routes.router)
    app.mount(f"{web_routes.APP_PREFIX}/static", web_routes.static_files(), name="app-static")

    @app.get("/", include_in_schema=False)
    async def home(request: Request, context: Context) -> RedirectResponse:
        signed_in = await web_routes.is_signed_in(request, context)
        return RedirectResponse(web_routes.APP_PREFIX if signed_in else "/app/login")

    return app


@asynccontextmanager
async def running_worker(context: AppContext) -> AsyncIterator[Worker]:
    """The in-process worker of the embedded deployment, woken by every committed event."""
    async with httpx.AsyncClient(timeout=15) as http:
        worker = Worker(
            JobContext(
                settings=context.settings,
                db=context.db,
                secrets=context.secrets,
                http=http,
                assistant=assistant_api.assistant_of(context),
            )
        )
        subscription = context.bus.subscribe()

        async def wake_on_events() -> None:
            while True:
                await subscription.queue.get()
                worker.wake()

        tasks: list[asyncio.Task[Any]] = [
            asyncio.create_task(worker.run()),
            asyncio.create_task(wake_on_events()),
        ]
        context.extras["worker"] = worker
        try:
            yield worker
        finally:
            worker.stop()
            subscription.close()
            tasks[1].cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
