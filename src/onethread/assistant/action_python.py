"""Python actions: callables registered in the ``onethread.actions`` entry point group.

A package declares one in its ``pyproject.toml``::

    [project.entry-points."onethread.actions"]
    plan_quote = "mypackage.actions:plan_quote"

The callable receives an ``ActionRequest`` and returns JSON-like data (dicts, lists,
strings, numbers, booleans), or None when there is nothing to say (not found). It may be
a coroutine function (preferred: it can use ``request.http``) or a plain function, which
runs in a worker thread so that the timeout still answers on time; a plain function
that overruns keeps its thread until it returns.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import httpx

from onethread.assistant.action_outcomes import ActionError
from onethread.assistant.contact_facts import ContactFacts
from onethread.playbook.schemas import PythonAction, SlotKind

ENTRY_POINT_GROUP = "onethread.actions"

PythonActionCallable = Callable[["ActionRequest"], Any]


@dataclass(frozen=True)
class ActionRequest:
    """What a Python action receives. The customer's identity is ``facts``, never a slot."""

    action: str
    facts: ContactFacts
    slots: Mapping[SlotKind, str]
    vars: Mapping[str, str]
    secrets: Mapping[str, str]
    http: httpx.AsyncClient
    language: str


_loaded: dict[str, PythonActionCallable] = {}


def load_python_action(name: str) -> PythonActionCallable:
    """The callable registered under ``name``; found ones are cached for the process."""
    if name in _loaded:
        return _loaded[name]
    found = sorted(entry_points(group=ENTRY_POINT_GROUP, name=name), key=lambda ep: ep.value)
    if not found:
        raise ActionError("unknown_entry_point", f"no {ENTRY_POINT_GROUP} entry point {name!r}")
    try:
        target: PythonActionCallable = found[0].load()
    except Exception as exc:
        raise ActionError(
            "unknown_entry_point", f"entry point {name!r} does not load: {type(exc).__name__}"
        ) from exc
    if not callable(target):
        raise ActionError("unknown_entry_point", f"entry point {name!r} is not callable")
    _loaded[name] = target
    return target


def forget_loaded_actions() -> None:
    """Drop the cache (after installing a package, or between tests)."""
    _loaded.clear()


async def call_python_action(action: PythonAction, request: ActionRequest) -> Any:
    """The callable's JSON-like result, or None; raises ``ActionError``."""
    function = load_python_action(action.entry_point)
    timeout = action.timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            if inspect.iscoroutinefunction(function):
                result = await function(request)
            else:
                result = await asyncio.to_thread(function, request)
                if inspect.isawaitable(result):
                    result = await result
    except ActionError:
        raise
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise ActionError(
            "timeout", f"{action.entry_point}: no result within {timeout:g} s"
        ) from exc
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        raise ActionError("http_status", f"{action.entry_point}: HTTP {status}") from exc
    except httpx.HTTPError as exc:
        raise ActionError("connection", f"{action.entry_point}: {type(exc).__name__}") from exc
    except Exception as exc:
        raise ActionError("error", f"{action.entry_point}: {type(exc).__name__}: {exc}") from exc
    return _json_like(action.entry_point, result)


def _json_like(name: str, result: Any) -> Any:
    try:
        return json.loads(json.dumps(result, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ActionError("bad_result", f"{name} returned data that is not JSON-like") from exc
