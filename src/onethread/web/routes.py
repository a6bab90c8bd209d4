"""Routes of the agents' web app under ``/app``.

The pages are shells rendered with Jinja2; the browser fills them from the JSON API
(same origin, the session cookie) and keeps them live over ``/api/v1/realtime``. So the
app has no data path of its own: what it shows is what the API returns.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from onethread import __version__
from onethread.agents.service import agent_for_token
from onethread.api.deps import SESSION_COOKIE, Context

APP_PREFIX = "/app"
HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

router = APIRouter(prefix=APP_PREFIX, include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])
)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


async def is_signed_in(request: Request, context: Context) -> bool:
    """True when the browser's session cookie names a live session."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return False
    async with context.db.read_sessions() as session:
        return await agent_for_token(session, token) is not None


def _page(name: str, **values: object) -> HTMLResponse:
    body = _templates.get_template(name).render(prefix=APP_PREFIX, version=__version__, **values)
    # Pages are shells; their data comes from the API, so a cached shell is never stale data.
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/login")
async def login_page() -> HTMLResponse:
    return _page("login.html")


async def _signed_in_page(request: Request, context: Context, name: str) -> Response:
    """The page ``name`` for a signed-in browser; the sign-in page for any other."""
    if not await is_signed_in(request, context):
        return RedirectResponse(f"{APP_PREFIX}/login", status_code=303)
    return _page(name)


@router.get("")
async def inbox_page(request: Request, context: Context) -> Response:
    return await _signed_in_page(request, context, "app.html")


@router.get("/settings")
async def settings_page(request: Request, context: Context) -> Response:
    """Admins' settings; the API refuses non-admins' writes, the page only hides the link."""
    return await _signed_in_page(request, context, "settings.html")


@router.get("/settings/webhooks")
async def webhooks_page(request: Request, context: Context) -> Response:
    """Admins' outbound webhooks and their delivery log (docs/webhooks.md)."""
    return await _signed_in_page(request, context, "webhooks.html")


@router.get("/reports")
async def reports_page(request: Request, context: Context) -> Response:
    """The dashboard: service, support and assistant metrics side by side."""
    return await _signed_in_page(request, context, "reports.html")


@router.get("/reports/weekly")
async def review_page(request: Request, context: Context) -> Response:
    """The weekly review of a chosen week (the file ``onethread report weekly`` writes)."""
    return await _signed_in_page(request, context, "review.html")
