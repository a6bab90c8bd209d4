"""Checking one turn's decision against what the case expects, in a fixed order.

Each check returns a sentence that says what was expected and what happened, so the
first failure of a case reads as a diagnosis. Text comparisons ignore case and runs of
whitespace (a reply template's line breaks are not the point).
"""

from __future__ import annotations

from collections.abc import Callable

from onethread.assistant.decision import Decision, Outcome
from onethread.assistant.evaluation.cases import Expect, ExpectedHandoff

REPLY_EXCERPT = 200

Check = Callable[[Expect, Decision], str | None]


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _excerpt(text: str | None) -> str:
    """The end of the reply: its answers come after the greeting."""
    if not text:
        return "no reply"
    flat = " ".join(text.split())
    cut = flat if len(flat) <= REPLY_EXCERPT else "…" + flat[1 - REPLY_EXCERPT :]
    return f"reply “{cut}”"


def dealt_with(decision: Decision) -> list[str]:
    """The topics the turn recognised or acted on (a follow-up carries its pending topic)."""
    names = [m.name for m in decision.understanding.topics] if decision.understanding else []
    names += [part.topic for part in decision.parts]
    names += [part.topic for part in decision.handoff_parts if part.topic]
    names += [run.topic for run in decision.actions]
    return list(dict.fromkeys(name for name in names if name))


def _silent(expect: Expect, decision: Decision) -> str | None:
    if expect.silent is None:
        return None
    silent = decision.outcome is Outcome.SILENT and not decision.reply
    if silent == expect.silent:
        return None
    if expect.silent:
        return f"expected silence, got {decision.outcome.value} ({decision.reason.value})"
    return f"expected the assistant to speak, it stayed silent ({decision.reason.value})"


def _outcome(expect: Expect, decision: Decision) -> str | None:
    if expect.outcome is None or decision.outcome is expect.outcome:
        return None
    return (
        f"expected outcome {expect.outcome.value}, got {decision.outcome.value} "
        f"(reason {decision.reason.value})"
    )


def _reason(expect: Expect, decision: Decision) -> str | None:
    if expect.reason is None or decision.reason is expect.reason:
        return None
    return (
        f"expected reason {expect.reason.value}, got {decision.reason.value} "
        f"(outcome {decision.outcome.value}, topics {', '.join(dealt_with(decision)) or 'none'})"
    )


def _language(expect: Expect, decision: Decision) -> str | None:
    language = decision.understanding.language if decision.understanding else None
    if expect.language is None or language == expect.language:
        return None
    return f"expected language {expect.language}, got {language}"


def _topics(expect: Expect, decision: Decision) -> str | None:
    found = dealt_with(decision)
    missing = [name for name in expect.topics if name not in found]
    if missing:
        return f"expected topic {', '.join(missing)}, got {', '.join(found) or 'none'}"
    unwanted = [name for name in expect.no_topics if name in found]
    if unwanted:
        return f"expected no topic {', '.join(unwanted)}, got {', '.join(found)}"
    return None


def _actions(expect: Expect, decision: Decision) -> str | None:
    ran = {run.action: run for run in decision.actions}
    for name, wanted in expect.actions.items():
        run = ran.get(name)
        got = run.outcome if run is not None else "not_run"
        if got != wanted:
            detail = f" ({run.detail})" if run is not None and run.detail else ""
            return f"expected action {name} {wanted}, got {got}{detail}"
    return None


def _asked(expect: Expect, decision: Decision) -> str | None:
    if expect.asked is None:
        return None
    asked = sorted(decision.asked["slots"]) if decision.asked else []
    if asked == sorted(expect.asked):
        return None
    wanted = ", ".join(expect.asked) or "nothing"
    return f"expected to ask for {wanted}, asked for {', '.join(asked) or 'nothing'}"


def _handoff(expect: Expect, decision: Decision) -> str | None:
    wanted, handoff = expect.handoff, decision.handoff
    if wanted is None:
        return None
    if wanted is False:
        return f"expected no handoff, got one ({handoff.reason.value})" if handoff else None
    if handoff is None:
        return f"expected a handoff, got {decision.outcome.value} ({decision.reason.value})"
    if not isinstance(wanted, ExpectedHandoff):
        return None
    if wanted.reason is not None and handoff.reason is not wanted.reason:
        return f"expected handoff reason {wanted.reason.value}, got {handoff.reason.value}"
    if "team" in wanted.model_fields_set and handoff.team != wanted.team:
        return f"expected the handoff to {_team(wanted.team)}, got {_team(handoff.team)}"
    return None


def _reply(expect: Expect, decision: Decision) -> str | None:
    reply = _norm(decision.reply or "")
    for text in expect.reply_contains:
        if _norm(text) not in reply:
            return f"expected the reply to contain “{text}”, {_excerpt(decision.reply)}"
    for text in expect.reply_excludes:
        if _norm(text) in reply:
            return f"expected the reply not to contain “{text}”, {_excerpt(decision.reply)}"
    return None


def _facts(expect: Expect, decision: Decision) -> str | None:
    reply = _norm(decision.reply or "")
    grounds = [_norm(source.text) for source in decision.sources]
    grounds += [_norm(fact) for run in decision.actions for fact in run.facts]
    for fact in expect.facts:
        if _norm(fact) not in reply:
            return f"expected the fact “{fact}” in the reply, {_excerpt(decision.reply)}"
        if not any(_norm(fact) in ground for ground in grounds):
            return f"the fact “{fact}” is in the reply but in no source or action result"
    return None


def _sources(expect: Expect, decision: Decision) -> str | None:
    cited = [f"{source.title} {source.ref}" for source in decision.sources]
    for wanted in expect.sources:
        if not any(_norm(wanted) in _norm(text) for text in cited):
            titles = ", ".join(source.title for source in decision.sources) or "none"
            return f"expected a source “{wanted}”, cited {titles}"
    return None


def _summary(expect: Expect, decision: Decision) -> str | None:
    if not expect.summary_contains:
        return None
    if decision.handoff is None:
        return "expected a handoff summary for the agent, there is no handoff"
    summary = _norm(decision.handoff.summary)
    for text in expect.summary_contains:
        if _norm(text) not in summary:
            return f"expected the handoff summary to contain “{text}”"
    return None


def _draft(expect: Expect, decision: Decision) -> str | None:
    if expect.draft is None or decision.draft == expect.draft:
        return None
    return f"expected draft={expect.draft}, got draft={decision.draft}"


CHECKS: tuple[Check, ...] = (
    _silent,
    _outcome,
    _reason,
    _language,
    _topics,
    _actions,
    _asked,
    _handoff,
    _reply,
    _facts,
    _sources,
    _summary,
    _draft,
)


def failures(expect: Expect, decision: Decision) -> list[str]:
    """Every unmet expectation of the turn, in the order of ``CHECKS``."""
    return [found for check in CHECKS if (found := check(expect, decision)) is not None]


def _team(name: str | None) -> str:
    return f"team {name}" if name else "no team"
