"""Calling a provider's API: the one place that decides what is retried and what is final."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from onethread.channels.base import SendFailed

ErrorReader = Callable[[httpx.Response], SendFailed]


async def call_provider(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    read_error: ErrorReader,
    **kwargs: Any,
) -> httpx.Response:
    """One request. Timeouts, network errors, 429 and 5xx are transient; ``read_error``
    turns any other non-2xx answer into the provider's own code and reason."""
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise SendFailed(
            f"the provider did not answer in time ({type(exc).__name__})",
            code="timeout",
            transient=True,
            http_status=None,
        ) from exc
    except httpx.HTTPError as exc:
        raise SendFailed(
            f"could not reach the provider: {exc}", code="network", transient=True, http_status=None
        ) from exc
    if response.is_success:
        return response
    failure = read_error(response)
    if response.status_code == 429 or response.status_code >= 500:
        failure.transient = True
    raise failure
