"""Jinja2 templates of the playbook's actions, rendered in a sandbox.

Request templates (URL, headers, query parameters, JSON body) see ``contact``, ``slots``,
``vars`` and ``secrets``; reply templates see ``contact``, ``slots``, ``vars`` and
``result``, never ``secrets``. A name that is not defined is an error, not an empty
string (``StrictUndefined``), so a reply cannot silently drop a fact.

A customer's text only ever enters as data: Jinja never evaluates a value, so a slot
holding ``{{ secrets }}`` prints those characters. In a URL every ``{{ … }}`` output is
percent-quoted as one path segment (``/`` and ``?`` included) unless it is a playbook
var (a base URL written by the business), so a slot cannot climb or change the path.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "TemplateError",
    "Verbatim",
    "redact",
    "render_body",
    "render_header",
    "render_text",
    "render_url",
    "scalar_texts",
]

MIN_REDACTED_LENGTH = 4
_RUNS_OF_SPACES = re.compile(r"[ \t]{2,}")


class Verbatim(str):
    """Text the business wrote (a playbook var): kept as-is in a URL."""

    __slots__ = ()


def _quote_unless_verbatim(value: Any) -> Any:
    if isinstance(value, Verbatim):
        return str(value)
    return quote(str(value), safe="")


@functools.cache
def _environment(for_url: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        finalize=_quote_unless_verbatim if for_url else None,
    )


@functools.lru_cache(maxsize=2048)
def _compiled(source: str, for_url: bool) -> Template:
    return _environment(for_url).from_string(source)


def render_text(source: str, context: Mapping[str, Any]) -> str:
    """A reply, a header or a parameter; raises ``TemplateError``.

    Runs of spaces left by template tags are folded into one."""
    return _RUNS_OF_SPACES.sub(" ", _compiled(source, False).render(context)).strip()


def render_url(source: str, context: Mapping[str, Any]) -> str:
    """An absolute http(s) URL whose rendered values are quoted path segments."""
    url = _compiled(source, True).render(context).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TemplateError("the action's URL does not render to an absolute http(s) URL")
    return url


def render_header(source: str, context: Mapping[str, Any]) -> str:
    value = render_text(source, context)
    if "\r" in value or "\n" in value:
        raise TemplateError("a header renders to a value with a line break")
    return value


def render_body(body: Any, context: Mapping[str, Any]) -> Any:
    """A JSON body whose strings are templates; other values are kept."""
    if isinstance(body, str):
        return render_text(body, context)
    if isinstance(body, Mapping):
        return {str(key): render_body(value, context) for key, value in body.items()}
    if isinstance(body, list):
        return [render_body(value, context) for value in body]
    return body


def verbatim_vars(variables: Mapping[str, str]) -> dict[str, Verbatim]:
    return {name: Verbatim(value) for name, value in variables.items()}


def scalar_texts(value: Any) -> list[str]:
    """Every scalar inside ``value`` as text, in order, once each (keys are not facts).

    A float also gives its two-decimal form, the way amounts are printed."""
    texts: dict[str, None] = {}

    def walk(item: Any) -> None:
        if isinstance(item, Mapping):
            for child in item.values():
                walk(child)
        elif isinstance(item, list | tuple):
            for child in item:
                walk(child)
        elif isinstance(item, bool):
            texts["true" if item else "false"] = None
        elif isinstance(item, float):
            if math.isfinite(item):
                texts[repr(item)] = None
                texts[f"{item:.2f}"] = None
        elif isinstance(item, int | str) and str(item):
            texts[str(item)] = None

    walk(value)
    return list(texts)


def redact(text: str, secrets: Mapping[str, str]) -> str:
    """``text`` with every secret value replaced, for logs, details and replies."""
    for value in sorted(secrets.values(), key=len, reverse=True):
        if len(value) >= MIN_REDACTED_LENGTH:
            text = text.replace(value, "[secret]")
    return text
