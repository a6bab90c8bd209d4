"""`onethread eval conversations`: the demo suite passes, and the runner tells the truth.

The demo suite runs in-process with the real MiniLM encoder, the demo billing API served
on loopback (real HTTP) and the demo's knowledge articles. Cases marked
``known_failure`` are listed, not failed. The runner itself is checked on small
hand-written files, through the command line as a user runs it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onethread.assistant.decision import Reason
from onethread.assistant.encoder import MiniLMEncoder
from onethread.assistant.evaluation.cases import ExpectedHandoff, Suite, parse_suite
from onethread.assistant.evaluation.conversations import (
    load_playbook_file,
    load_suite_file,
    report_lines,
    run_suite,
)
from onethread.cli import app
from onethread.errors import InvalidInput
from onethread.inboxes.models import AiMode

# What points 5-7 of the assistant issue ask the suite to show, as reason codes.
REQUIRED_REASONS = {
    Reason.AI_OFF,
    Reason.BUSINESS_HOURS,
    Reason.HUMAN_HANDLES,
    Reason.CONTACT_KEPT_HUMAN,
    Reason.CUSTOMER_REQUESTED_HUMAN,
    Reason.NEGATIVE_SENTIMENT,
    Reason.LOW_CONFIDENCE,
    Reason.HUMAN_ONLY_TOPIC,
    Reason.ACTION_FAILED,
    Reason.MAX_AI_TURNS,
    Reason.REPEAT_CONTACT,
    Reason.MISSING_SLOT,
    Reason.ASKED_FOR_SLOT,
    Reason.UNVERIFIED_IDENTITY,
    Reason.SMALL_TALK,
    Reason.ANSWERED,
}


@pytest.fixture(scope="module")
def demo_suite() -> Suite:
    suite, _ = load_suite_file("demo")
    return suite


def _reasons(suite: Suite) -> set[Reason]:
    found: set[Reason] = set()
    for case in suite.cases:
        if case.known_failure is not None:
            continue
        for turn in case.turns:
            expect = turn.expect
            if expect.reason is not None:
                found.add(expect.reason)
            if isinstance(expect.handoff, ExpectedHandoff) and expect.handoff.reason is not None:
                found.add(expect.handoff.reason)
    return found


def test_demo_suite_covers_every_rule(demo_suite: Suite) -> None:
    assert len(demo_suite.cases) >= 40
    missing = REQUIRED_REASONS - _reasons(demo_suite)
    assert not missing, missing
    modes = {case.inbox.ai_mode for case in demo_suite.cases if case.known_failure is None}
    assert modes == set(AiMode)
    human_only = {"cancel_subscription", "data_deletion", "product_bug", "feature_request"}
    handed = {
        topic
        for case in demo_suite.cases
        for turn in case.turns
        if turn.expect.handoff
        for topic in turn.expect.topics
    }
    assert human_only <= handed


async def test_demo_suite_passes(demo_suite: Suite) -> None:
    playbook = load_playbook_file("demo")
    _, base = load_suite_file("demo")
    result = await run_suite(demo_suite, playbook, MiniLMEncoder(), base=base)
    report = "\n".join(report_lines(result))
    assert result.failed == 0, report
    assert result.passed >= 40, report
    assert not result.warnings, report
    known = {case.name: case.known_failure for case in result.known}
    print(f"\n{result.passed} passed; known failures: {json.dumps(known, indent=1)}")
    names = {case.name for case in result.cases}
    assert {"double_charge_and_broken_export", "silent_after_handoff"} <= names - set(known)


# --- the runner itself, on a small hand-written suite -----------------------------------

SMALL_SUITE = """
defaults:
  contact: {attributes: {customer_id: cus_NW1042}}
cases:
  - name: asks_for_a_person
    turns:
      - customer: I want to talk to a human
        expect:
          outcome: handoff
          reason: customer_requested_human
          reply_contains: a person will reply here
      - customer: hello?
        expect: {silent: true, reason: human_handles}
  - name: wrongly_expects_an_answer
    turns:
      - customer: I want to talk to a human
        expect: {outcome: handoff}
      - customer: still there?
        expect: {outcome: reply, reason: answered}
  - name: documented_gap
    known_failure: kept to show the report
    turns:
      - customer: I want to talk to a human
        expect: {reason: answered}
"""

PASSING_SUITE = """
cases:
  - name: inbox_with_ai_off
    inbox: {ai_mode: "off"}
    turns:
      - customer: I want to talk to a human
        expect: {silent: true, reason: ai_off}
  - name: greeting_is_not_a_grounded_fact
    known_failure: the greeting carries no source, so this fact expectation cannot hold
    turns:
      - customer: I want to talk to a human
        expect: {facts: ["Lumen Analytics"]}
"""


Write = Callable[[str], str]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    def _write(text: str) -> str:
        path = tmp_path / "cases.yaml"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return _write


def _run(cases: str, *extra: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "eval",
            "conversations",
            "--playbook",
            "demo",
            "--cases",
            cases,
            "--encoder",
            "lexical",
            *extra,
        ],
    )
    return result.exit_code, result.stdout, result.stderr


def test_a_failing_case_fails_the_run_with_the_first_failure_explained(write: Write) -> None:
    path = write(SMALL_SUITE)
    code, out, _ = _run(path)
    assert code == 1, out
    lines = out.splitlines()
    assert "PASS  asks_for_a_person" in lines
    failed = next(line for line in lines if line.startswith("FAIL  wrongly_expects_an_answer"))
    assert "turn 2 (“still there?”): expected outcome reply, got silent" in failed
    assert "(reason human_handles)" in failed
    assert "(+1 more)" in failed  # the reason is wrong too
    known = next(line for line in lines if line.startswith("KNOWN documented_gap"))
    assert "kept to show the report" in known
    assert "expected reason answered, got customer_requested_human" in known
    assert lines[-1] == "1 passed, 1 failed, 1 known failure"


def test_json_report(write: Write) -> None:
    path = write(SMALL_SUITE)
    code, out, _ = _run(path, "--json")
    assert code == 1
    report = json.loads(out)
    assert set(report) == {"cases", "passed", "failed", "known_failures"}
    assert (report["passed"], report["failed"]) == (1, 1)
    assert report["known_failures"] == ["documented_gap"]
    by_name = {case["name"]: case for case in report["cases"]}
    assert by_name["asks_for_a_person"] == {
        "name": "asks_for_a_person",
        "passed": True,
        "failures": [],
    }
    failing = by_name["wrongly_expects_an_answer"]
    assert failing["passed"] is False
    assert failing["failures"] == [
        "turn 2 (“still there?”): expected outcome reply, got silent (reason human_handles)",
        "turn 2 (“still there?”): expected reason answered, got human_handles "
        "(outcome silent, topics none)",
    ]
    assert by_name["documented_gap"]["known_failure"] == "kept to show the report"
    assert by_name["documented_gap"]["passed"] is False


def test_known_failures_do_not_fail_the_run(write: Write) -> None:
    path = write(PASSING_SUITE)
    code, out, _ = _run(path, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert (report["passed"], report["failed"]) == (1, 0)
    greeting = report["cases"][1]
    assert greeting["failures"] == [
        "turn 1 (“I want to talk to a human”): the fact “Lumen Analytics” is in the reply "
        "but in no source or action result"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "cases:\n  - name: x\n    turns:\n      - customer: hi\n        expect: {reply_has: a}",
            "cases.0.turns.0.expect.reply_has: Extra inputs are not permitted",
        ),
        (
            "cases:\n  - name: x\n    turns:\n      - customer: hi\n        expect: {topics: bil}",
            "x: unknown topic bil",
        ),
        (
            "cases:\n  - name: x\n    turns:\n      - agent: hi\n        expect: {silent: true}",
            "only a customer turn has expectations",
        ),
    ],
)
def test_a_malformed_suite_is_refused_with_where(write: Write, text: str, message: str) -> None:
    code, _, err = _run(write(text))
    assert code == 2
    assert message in err


def test_defaults_merge_one_level() -> None:
    suite = parse_suite(
        """
defaults:
  contact: {attributes: {customer_id: cus_1, vip: true}, verified_email: a@example.com}
  vars: {billing_api: "http://a"}
cases:
  - name: override
    contact: {attributes: {}}
    vars: {other: b}
    turns: [{customer: hi}]
"""
    )
    case = suite.cases[0]
    assert case.contact.attributes == {}  # attributes are replaced as a whole
    assert case.contact.verified_email == "a@example.com"
    assert case.vars == {"billing_api": "http://a", "other": "b"}


def test_two_cases_with_one_name_are_refused() -> None:
    with pytest.raises(InvalidInput, match="two cases are named same"):
        parse_suite(
            "cases:\n  - {name: same, turns: [{customer: a}]}\n"
            "  - {name: same, turns: [{customer: b}]}\n"
        )
