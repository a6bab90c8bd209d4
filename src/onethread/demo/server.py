"""The demo's server: the normal app plus the demo company's billing API beside it.

The billing API is mounted at ``/demo-api/billing`` of the demo's process only, so the
demo playbook's actions reach it over real HTTP, like a business's own systems. Mounted
apps stay out of the main API's OpenAPI description.
"""

from __future__ import annotations

from fastapi import FastAPI

from onethread.demo.billing_api import MOUNT_PATH, create_billing_app
from onethread.demo.playbook import billing_api_token
from onethread.main import create_app
from onethread.settings import Settings


def create_demo_app(settings: Settings, *, run_worker: bool = True) -> FastAPI:
    app = create_app(settings, run_worker=run_worker)
    app.mount(MOUNT_PATH, create_billing_app(billing_api_token(settings)))
    return app


def serve_demo(settings: Settings, host: str | None, port: int | None) -> None:
    """Run the demo app with uvicorn until stopped (what ``onethread demo`` ends with)."""
    import uvicorn

    uvicorn.run(
        create_demo_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        access_log=True,
        proxy_headers=True,
    )
