"""`onethread kb ingest|export` and `onethread eval kb`, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from onethread.assistant.evaluation.kb import kb_command
from tests.conftest import BACKENDS, POSTGRES_URL, scratch_postgres_database
from tests.knowledge.samples import EXPORT_HTML, NOTES_TXT, REFUND_MD, two_page_pdf


@pytest.fixture(params=BACKENDS)
async def cli_env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    env = {
        **os.environ,
        "ONETHREAD_DATA_DIR": str(tmp_path / "data"),
        "ONETHREAD_SECRET_KEY": "cli-test-key",
        "ONETHREAD_ENCODER": "lexical",  # the CLI's plumbing is under test, not the model
    }
    env.pop("ONETHREAD_DATABASE_URL", None)
    if request.param == "sqlite":
        yield env
        return
    assert POSTGRES_URL is not None
    async with scratch_postgres_database(POSTGRES_URL) as url:
        yield {**env, "ONETHREAD_DATABASE_URL": url}


def onethread(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onethread", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _knowledge(root: Path) -> Path:
    (root / "policies").mkdir(parents=True)
    (root / "policies" / "refunds.md").write_text(REFUND_MD)
    (root / "export.html").write_text(EXPORT_HTML)
    (root / "status.txt").write_text(NOTES_TXT)
    (root / "api.pdf").write_bytes(two_page_pdf())
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 nothing else")
    (root / "photo.png").write_bytes(b"\x89PNG")  # not a knowledge format: not even tried
    return root


def test_ingest_reports_each_file_then_updates_in_place_and_exports(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    created = onethread(
        cli_env, "init", "--workspace", "Lumen", "--admin-email", "a@example.com",
        "--admin-password", "long enough", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    folder = _knowledge(tmp_path / "kb")

    first = onethread(cli_env, "kb", "ingest", str(folder), "--json")
    assert first.returncode == 1, first.stderr  # one file failed
    summary = json.loads(first.stdout)
    assert (summary["created"], summary["updated"], summary["unchanged"], summary["failed"]) == (
        4,
        0,
        0,
        1,
    )
    [failure] = summary["failures"]
    assert failure["source_key"] == "broken.pdf"
    assert "PDF could not be read" in failure["reason"]

    (folder / "broken.pdf").unlink()
    (folder / "status.txt").write_text(NOTES_TXT + "\nMaintenance is announced 48 hours ahead.\n")
    again = onethread(cli_env, "kb", "ingest", str(folder))
    assert again.returncode == 0, again.stderr
    assert "0 created, 1 updated, 3 unchanged, 0 failed" in again.stdout

    exported = tmp_path / "kb.jsonl"
    result = onethread(cli_env, "kb", "export", str(exported))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    articles = {line["source_key"]: line for line in lines if line["type"] == "article"}
    assert set(articles) == {"policies/refunds.md", "export.html", "status.txt", "api.pdf"}
    assert articles["export.html"]["language"] == "fr"
    chunks = [line for line in lines if line["type"] == "chunk"]
    assert {c["key"] for c in chunks} >= {"policies/refunds.md#2", "api.pdf#1"}
    assert all(c["encoder"] and c["key"] == f"{c['source_key']}#{c['ordinal']}" for c in chunks)
    assert "48 hours" in articles["status.txt"]["body"]


def test_ingest_needs_a_workspace(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = onethread(cli_env, "kb", "ingest", str(_knowledge(tmp_path / "kb")))
    assert result.returncode == 2
    assert "no workspace yet" in result.stderr


def _eval_app() -> typer.Typer:
    app = typer.Typer()
    app.command("kb")(kb_command)
    return app


def test_eval_kb_scores_a_tiny_set(tmp_path: Path) -> None:
    folder = _knowledge(tmp_path / "kb")
    (folder / "broken.pdf").unlink()
    questions = tmp_path / "questions.jsonl"
    asked = {
        "Is an annual plan refunded after 30 days?": "policies/refunds.md#2",
        "HTTP 429 rate limit": "api.pdf",
        "exporter un million de lignes": "export.html",
        "incident email subscription": "status.txt",
    }
    questions.write_text(
        "\n".join(json.dumps({"question": q, "answer_ids": [a]}) for q, a in asked.items())
    )
    runner = CliRunner()
    args = ["--kb", str(folder), "--questions", str(questions), "--encoder", "lexical"]
    result = runner.invoke(_eval_app(), [*args, "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["n"] == 4
    assert scores["hit_at_1"] == scores["hit_at_5"] == scores["mrr"] == 1.0
    every = runner.invoke(_eval_app(), [*args, "--mode", "all", "--json"])
    assert set(json.loads(every.stdout)) == {"hybrid", "lexical", "semantic"}
    table = runner.invoke(_eval_app(), args)
    assert "hit@1" in table.stdout


def test_eval_kb_refuses_answer_ids_it_cannot_find(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nText.")
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "a", "answer_ids": ["missing.md"]}))
    result = CliRunner().invoke(
        _eval_app(), ["--kb", str(folder), "--questions", str(questions), "--encoder", "lexical"]
    )
    assert result.exit_code == 2
    assert "missing.md" in result.output
