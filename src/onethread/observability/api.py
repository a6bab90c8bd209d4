"""``GET /metrics``: Prometheus text exposition of this process, outside the OpenAPI schema.

Open by default, as Prometheus expects on the bind address; with
``ONETHREAD_METRICS_TOKEN`` set, only ``Authorization: Bearer <token>`` may read it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from onethread.api.context import AppContext
from onethread.observability.queue import queue_registry, read_queue

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])

# A scrape must answer while the database is down: the process's own metrics matter most then.
QUEUE_READ_SECONDS = 2.0


def _allowed(request: Request, context: AppContext) -> bool:
    token = context.settings.metrics_token
    if token is None:
        return True
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.encode(), expected)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    context: AppContext = request.app.state.context
    if not _allowed(request, context):
        return Response(
            "metrics need Authorization: Bearer <ONETHREAD_METRICS_TOKEN>\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        async with asyncio.timeout(QUEUE_READ_SECONDS):
            depths = await read_queue(context.db)
    except Exception as exc:
        log.warning("metrics: the job queue could not be read: %s", exc)
        depths = None
    body = generate_latest(REGISTRY) + generate_latest(queue_registry(depths))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
