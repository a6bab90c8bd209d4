"""`onethread eval conversations`: scripted multi-turn threads, run through the assistant.

Each case is a thread held in memory (``assistant/simulation.py``): every customer turn
is decided by ``brain.decide`` on a snapshot of the thread as it stands, exactly as the
worker decides it after loading one, and the decision is written back as
``write_decision`` writes it (the reply joins the history and counts as an AI turn, a
handoff makes the thread human, an assist-mode draft stays out of the history). Then the
turn's expectations are checked (``expectations.py``).

What the simulation leaves out, because no later turn reads it: events, delivery jobs,
summary notes (kept aside, never read back), the assignee chosen by language, and the
"moved on" check (turns are sequential here). A case's clock does not move: every turn
happens at its ``now``.

A case marked ``known_failure`` is run and reported on its own: it counts neither as
passed nor as failed (the suite records a misbehaviour of the assistant without
weakening the case), and one that starts to pass is pointed out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, cast

import httpx
import typer

from onethread.assistant.brain import decide
from onethread.assistant.deps import AssistantDeps, KnowledgeSearch, PlaybookRuntime
from onethread.assistant.encoder import EncoderChoice, TextEncoder
from onethread.assistant.evaluation.cases import Case, Suite, check_against, parse_suite
from onethread.assistant.evaluation.expectations import failures
from onethread.assistant.evaluation.kb import load_knowledge
from onethread.assistant.evaluation.services import running_services
from onethread.assistant.simulation import IndexSearch, SimulatedThread
from onethread.assistant.topics import build_router
from onethread.errors import InvalidInput
from onethread.playbook.schemas import Playbook
from onethread.playbook.yaml_io import playbook_from_yaml

DEMO = "demo"
EXCERPT = 60


@dataclass
class CaseResult:
    name: str
    failures: list[str]
    known_failure: str | None = None
    turns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "name": self.name,
            "passed": self.passed,
            "failures": self.failures,
        }
        if self.known_failure is not None:
            found["known_failure"] = self.known_failure
        return found


@dataclass
class SuiteResult:
    cases: list[CaseResult]
    warnings: list[str] = field(default_factory=list)

    @property
    def counted(self) -> list[CaseResult]:
        return [case for case in self.cases if case.known_failure is None]

    @property
    def known(self) -> list[CaseResult]:
        return [case for case in self.cases if case.known_failure is not None]

    @property
    def passed(self) -> int:
        return sum(case.passed for case in self.counted)

    @property
    def failed(self) -> int:
        return sum(not case.passed for case in self.counted)

    def as_json(self) -> dict[str, Any]:
        return {
            "cases": [case.as_json() for case in self.cases],
            "passed": self.passed,
            "failed": self.failed,
            "known_failures": [case.name for case in self.known],
        }


def demo_path(name: str) -> Path:
    """A file or folder of ``onethread.demo``'s package data, on disk."""
    path = Path(str(resources.files("onethread.demo").joinpath(name)))
    if not path.exists():
        raise InvalidInput(f"the demo's {name} is not installed as a plain file")
    return path


def load_playbook_file(source: str) -> Playbook:
    path = demo_path("playbook.yaml") if source == DEMO else Path(source)
    try:
        return playbook_from_yaml(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput(f"cannot read the playbook {source}: {error}") from error


def load_suite_file(source: str) -> tuple[Suite, Path]:
    """The suite, and the folder its relative paths start from."""
    path = demo_path("eval_cases.yaml") if source == DEMO else Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(f"cannot read the cases {source}: {error}") from error
    return parse_suite(text, path.name), path.parent


def _knowledge(
    suite: Suite, base: Path, encoder: TextEncoder, warnings: list[str]
) -> KnowledgeSearch | None:
    paths = [
        demo_path("knowledge") if item == DEMO else Path(item)
        for item in suite.knowledge_paths(base)
    ]
    if not paths:
        return None
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise InvalidInput(f"no knowledge at {', '.join(missing)}")
    scratch = load_knowledge(paths, encoder)
    warnings += [f"knowledge {key} skipped: {reason}" for key, reason in scratch.failures]
    return IndexSearch(scratch.index)


async def run_suite(
    suite: Suite, playbook: Playbook, encoder: TextEncoder, *, base: Path
) -> SuiteResult:
    """Every case of the suite, with its services up and the knowledge indexed once."""
    check_against(suite, playbook)
    warnings: list[str] = []
    knowledge = _knowledge(suite, base, encoder, warnings)
    router = build_router(playbook, encoder)
    results = []
    async with (
        running_services(suite.services) as services,
        httpx.AsyncClient(timeout=15) as http,
    ):
        shared = playbook.model_copy(update={"vars": {**playbook.vars, **services.vars}})
        secrets = {**suite.secrets, **services.secrets}
        for case in suite.cases:
            runtime = PlaybookRuntime(1, _with_vars(shared, case), 1, router, secrets)
            deps = AssistantDeps(encoder=encoder, http=http, knowledge=knowledge)
            results.append(await run_case(case, runtime, deps))
    return SuiteResult(results, warnings)


def _with_vars(playbook: Playbook, case: Case) -> Playbook:
    if not case.vars:
        return playbook
    return playbook.model_copy(update={"vars": {**playbook.vars, **case.vars}})


async def run_case(case: Case, runtime: PlaybookRuntime, deps: AssistantDeps) -> CaseResult:
    """The case's turns in order on one simulated thread; failures say which turn."""
    deps.now = lambda: case.now
    thread = SimulatedThread(
        attributes=dict(case.contact.attributes),
        verified_email=case.contact.verified_email,
        verified_phone=case.contact.verified_phone,
        contact_language=case.contact.language,
        ai_mode=case.inbox.ai_mode.value,
        settings=case.workspace_settings(),
        resolved_topics=case.resolved_topics(),
    )
    repeat_days = runtime.playbook.rules.repeat_contact_days
    result = CaseResult(case.name, [], case.known_failure)
    for number, turn in enumerate(case.turns, start=1):
        if turn.agent is not None:
            thread.agent_replies(turn.agent, case.now)
            continue
        if turn.hand_back:
            thread.hand_back()
            continue
        assert turn.customer is not None
        label = f"turn {number} (“{_clip(turn.customer)}”)"
        thread.customer_says(turn.customer, case.now)
        try:
            decision = await decide(
                thread.snapshot(case.now, repeat_days=repeat_days), runtime, deps
            )
        except Exception as error:  # a crash is this case's failure, not the suite's
            result.failures.append(f"{label}: the assistant raised {type(error).__name__}: {error}")
            break
        thread.apply(decision, case.now)
        result.failures += [f"{label}: {found}" for found in failures(turn.expect, decision)]
        result.turns.append(
            {"customer": turn.customer, "reply": decision.reply, **decision.record()}
        )
    return result


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def report_lines(result: SuiteResult, *, verbose: bool = False) -> list[str]:
    """The human-readable report: one line per case, the first failure explained."""
    lines = [f"warning: {warning}" for warning in result.warnings]
    for case in result.cases:
        if case.known_failure is not None:
            state = "now passes, remove known_failure" if case.passed else case.failures[0]
            lines.append(f"KNOWN {case.name}: {case.known_failure} [{state}]")
        elif case.passed:
            lines.append(f"PASS  {case.name}")
        else:
            more = f" (+{len(case.failures) - 1} more)" if len(case.failures) > 1 else ""
            lines.append(f"FAIL  {case.name}: {case.failures[0]}{more}")
        if verbose:
            lines += _turn_lines(case.turns)
    known = len(result.known)
    lines.append(
        f"{result.passed} passed, {result.failed} failed"
        + (f", {known} known failure{'s' if known != 1 else ''}" if known else "")
    )
    return lines


def _turn_lines(turns: Sequence[dict[str, Any]]) -> list[str]:
    lines = []
    for turn in turns:
        topics = ", ".join(t["name"] for t in turn["topics"]) or "-"
        lines.append(f"      > {_clip(turn['customer'])}")
        lines.append(
            f"        {turn['outcome']} / {turn['reason']} · {turn['language']} · {topics}"
        )
        if turn["reply"]:
            lines.append(f"        < {' '.join(turn['reply'].split())}")
    return lines


def to_json(result: SuiteResult) -> str:
    return json.dumps(result.as_json(), ensure_ascii=False)


def conversations_command(
    playbook: Annotated[
        str, typer.Option(help="The playbook YAML to test, or 'demo' for the demo's own")
    ],
    cases: Annotated[str, typer.Option(help="The cases YAML, or 'demo' for the demo suite")],
    encoder: Annotated[
        str | None, typer.Option(help="auto, minilm or lexical (default: the setting)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show every turn's decision and reply")
    ] = False,
) -> None:
    """Scripted multi-turn conversations through the assistant: pass/fail per case."""
    from onethread.assistant.encoder import load_encoder
    from onethread.settings import get_settings

    choice = encoder or get_settings().encoder
    if choice not in ("auto", "minilm", "lexical"):
        raise typer.BadParameter("--encoder must be auto, minilm or lexical")
    try:
        loaded = load_playbook_file(playbook)
        suite, base = load_suite_file(cases)
        text_encoder = load_encoder(cast(EncoderChoice, choice))
        result = asyncio.run(run_suite(suite, loaded, text_encoder, base=base))
    except InvalidInput as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(2) from error
    if as_json:
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        typer.echo(to_json(result))
    else:
        for line in report_lines(result, verbose=verbose):
            typer.echo(line)
    if result.failed:
        raise typer.Exit(1)
