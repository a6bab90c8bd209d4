"""Declared HTTP actions: render the request, call the business's service, read its JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from onethread.assistant.action_outcomes import ActionError
from onethread.assistant.templating import render_body, render_header, render_text, render_url
from onethread.playbook.schemas import HttpAction

MAX_RESPONSE_BYTES = 1_000_000


@dataclass(frozen=True)
class HttpCall:
    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, str]
    body: Any

    @property
    def target(self) -> str:
        """Method and URL without the query string, for details and logs."""
        parts = urlsplit(self.url)
        return f"{self.method} {urlunsplit((parts.scheme, parts.netloc, parts.path, '', ''))}"


def build_call(action: HttpAction, context: Mapping[str, Any]) -> HttpCall:
    """The request the action describes; raises ``jinja2.TemplateError``."""
    return HttpCall(
        method=action.method,
        url=render_url(action.url, context),
        headers={name: render_header(value, context) for name, value in action.headers.items()},
        params={name: render_text(value, context) for name, value in action.params.items()},
        body=None if action.body is None else render_body(action.body, context),
    )


async def fetch(call: HttpCall, http: httpx.AsyncClient, seconds: float) -> Any:
    """The JSON the service answered, or None for a 404 or an empty body.

    ``seconds`` bounds the whole exchange, connection to last byte."""
    try:
        async with asyncio.timeout(seconds):
            async with http.stream(
                call.method,
                call.url,
                headers=call.headers,
                params=call.params or None,
                json=call.body,
                timeout=seconds,
                follow_redirects=False,
            ) as response:
                content = await _read_limited(response)
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise ActionError("timeout", f"{call.target}: no answer within {seconds:g} s") from exc
    except httpx.HTTPError as exc:
        raise ActionError("connection", f"{call.target}: {type(exc).__name__}") from exc
    if response.status_code == httpx.codes.NOT_FOUND:
        return None
    if not response.is_success:
        raise ActionError("http_status", f"{call.target}: HTTP {response.status_code}")
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except ValueError as exc:
        raise ActionError("bad_json", f"{call.target}: the answer is not JSON") from exc


async def _read_limited(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise ActionError("too_large", f"the answer is over {MAX_RESPONSE_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
