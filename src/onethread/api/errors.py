"""One JSON error shape, ``{"error": {"code", "message", "details"}}``, for every failure."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from onethread.db.failures import is_unavailable, is_worth_rerunning, sqlstate
from onethread.errors import DomainError, RateLimited

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}},
        status_code=status,
        headers=headers,
    )


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if exc.status_code == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "reason": error.get("msg", "invalid"),
        }
        for error in exc.errors()
    ]
    first = details[0] if details else {"field": "", "reason": "invalid"}
    message = f"{first['field'] or 'request'}: {first['reason']}"
    return error_response(400, "invalid_input", message, details)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    return error_response(
        exc.status_code, code, str(exc.detail), None, dict(exc.headers) if exc.headers else None
    )


async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable: %s", exc)
    return error_response(
        503,
        "unavailable",
        "the database is unavailable; retry shortly",
        headers={"Retry-After": "5"},
    )


async def _database_refused(request: Request, exc: Exception) -> JSONResponse:
    # A data exception (DBAPI DataError, SQLSTATE class 22) is a value the database will
    # not store: PostgreSQL refuses NUL characters in text, for one. Nothing was stored,
    # and the caller can fix the request. Anything else is our fault.
    assert isinstance(exc, DBAPIError)
    if is_unavailable(exc) or (is_worth_rerunning(exc) and not isinstance(exc, IntegrityError)):
        # The server went away or is restarting, or a deadlock outlived its reruns:
        # nothing was stored and the same request will do later.
        return await _database_down(request, exc)
    state = sqlstate(exc)
    if isinstance(exc, DataError) or state.startswith("22"):
        reason = str(exc.orig).splitlines()[0]
        return error_response(400, "invalid_input", f"a value cannot be stored: {reason}")
    if isinstance(exc, IntegrityError) or state.startswith("23"):
        # Two requests raced past the same check (a unique name, say); the loser is told.
        return error_response(
            409, "conflict", "this conflicts with a concurrent change; reload and try again"
        )
    return await _unexpected(request, exc)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "an unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(DBAPIError, _database_refused)
    app.add_exception_handler(PoolTimeout, _database_down)  # no connection free in time
    app.add_exception_handler(Exception, _unexpected)
