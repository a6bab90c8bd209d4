"""Run one deterministic action of the playbook and say what came of it.

The order of checks is the contract (docs/actions.md):

1. every ``requires`` field must be in the contact's trusted facts, else
   ``ActionNeedsIdentity``: who the customer is comes from ``ContactFacts`` (business
   attributes, verified identities), never from what they typed;
2. every declared slot must be in the message, else ``ActionNeedsSlots``: typed slots
   only narrow a lookup already scoped to that verified customer;
3. the HTTP request or the Python callable runs under the action's timeout;
4. a 404 or an empty result renders ``not_found_reply``; a result renders ``reply``,
   in the customer's language or else the playbook's default one.

``run_action`` never raises: any failure is an ``ActionFailed`` whose detail, like the
reply and the log lines, has every secret value replaced.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx

from onethread.assistant.action_http import build_call, fetch
from onethread.assistant.action_outcomes import (
    ActionDone,
    ActionError,
    ActionFailed,
    ActionNeedsIdentity,
    ActionNeedsSlots,
    ActionNotFound,
    ActionOutcome,
)
from onethread.assistant.action_python import ActionRequest, call_python_action
from onethread.assistant.contact_facts import ContactFacts, contact_facts
from onethread.assistant.templating import (
    TemplateError,
    redact,
    render_text,
    scalar_texts,
    verbatim_vars,
)
from onethread.playbook.schemas import HttpAction, PythonAction, SlotKind

__all__ = [
    "ActionDone",
    "ActionFailed",
    "ActionNeedsIdentity",
    "ActionNeedsSlots",
    "ActionNotFound",
    "ActionOutcome",
    "ActionRequest",
    "ContactFacts",
    "contact_facts",
    "run_action",
]

log = logging.getLogger(__name__)
_SLOT_KINDS = frozenset(kind.value for kind in SlotKind)


async def run_action(
    action: HttpAction | PythonAction,
    *,
    facts: ContactFacts,
    slots: Mapping[SlotKind, str],
    vars: Mapping[str, str],
    secrets: Mapping[str, str],
    http: httpx.AsyncClient,
    language: str,
    default_language: str,
) -> ActionOutcome:
    missing_identity = facts.missing(action.requires)
    if missing_identity:
        return ActionNeedsIdentity(missing_identity)
    filled = {
        SlotKind(kind): value.strip()
        for kind, value in slots.items()
        if kind in _SLOT_KINDS and isinstance(value, str) and value.strip()
    }
    missing_slots = [kind for kind in action.slots if kind not in filled]
    if missing_slots:
        return ActionNeedsSlots(missing_slots)
    context: dict[str, Any] = {
        "contact": facts.template_view(),
        "slots": {kind.value: value for kind, value in filled.items()},
        "vars": verbatim_vars(vars),
    }
    started = time.perf_counter()
    try:
        result = await _run(action, context, facts, filled, vars, secrets, http, language)
        outcome = _replied(action, result, context, secrets, language, default_language)
    except ActionError as exc:
        outcome = ActionFailed(exc.reason, redact(exc.detail, secrets))
    except TemplateError as exc:
        outcome = ActionFailed("template", redact(f"{type(exc).__name__}: {exc}", secrets))
    except Exception as exc:  # a bug must cost one handoff, not the whole turn
        log.error("action %s raised %s", action.name, type(exc).__name__)
        outcome = ActionFailed("error", type(exc).__name__)
    _log(action, outcome, time.perf_counter() - started)
    return outcome


async def _run(
    action: HttpAction | PythonAction,
    context: dict[str, Any],
    facts: ContactFacts,
    slots: dict[SlotKind, str],
    variables: Mapping[str, str],
    secrets: Mapping[str, str],
    http: httpx.AsyncClient,
    language: str,
) -> Any:
    """The result (None when there is none)."""
    if isinstance(action, HttpAction):
        call = build_call(action, {**context, "secrets": dict(secrets)})
        in_url = " ".join([call.url, *call.params.values()])
        if redact(in_url, secrets) != in_url:  # URLs get logged, by httpx among others
            raise ActionError("template", "secrets go in headers or the body, not the URL")
        return await fetch(call, http, action.timeout_seconds)
    request = ActionRequest(
        action=action.name,
        facts=facts,
        slots=dict(slots),
        vars=dict(variables),
        secrets=dict(secrets),
        http=http,
        language=language,
    )
    return await call_python_action(action, request)


def _replied(
    action: HttpAction | PythonAction,
    result: Any,
    context: dict[str, Any],
    secrets: Mapping[str, str],
    language: str,
    default_language: str,
) -> ActionOutcome:
    if result is None or result in ({}, [], ""):
        chosen, source = _template(action.not_found_reply, language, default_language)
        text = render_text(source, context) if source else ""
        return ActionNotFound(redact(text, secrets), chosen)
    chosen, source = _template(action.reply, language, default_language)
    text = render_text(source, {**context, "result": result}) if source else ""
    facts_text = [redact(fact, secrets) for fact in scalar_texts(result)]
    updates = contact_updates(action.updates_contact, result)
    return ActionDone(result, redact(text, secrets), facts_text, chosen, updates)


def contact_updates(mapping: Mapping[str, str], result: Any) -> dict[str, Any]:
    """Attribute → value for each ``updates_contact`` field the result has (null included)."""
    updates: dict[str, Any] = {}
    for attribute, path in mapping.items():
        value = result
        for key in path.split("."):
            if not isinstance(value, dict) or key not in value:
                break
            value = value[key]
        else:
            updates[attribute] = value
    return updates


def _template(
    templates: Mapping[str, str], language: str, default_language: str
) -> tuple[str, str]:
    """(language, template): the customer's language, else the default, else any."""
    for candidate in (language, default_language, *sorted(templates)):
        if candidate in templates:
            return candidate, templates[candidate]
    return "", ""


def _log(action: HttpAction | PythonAction, outcome: ActionOutcome, elapsed: float) -> None:
    milliseconds = elapsed * 1000
    if isinstance(outcome, ActionFailed):
        log.warning(
            "action %s failed (%s) in %.0f ms: %s",
            action.name,
            outcome.reason,
            milliseconds,
            outcome.detail,
        )
    else:
        log.info("action %s: %s in %.0f ms", action.name, type(outcome).__name__, milliseconds)
