"""`onethread contacts import` as a user runs it: a separate process, a real file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import cli_env, onethread

__all__ = ["cli_env"]  # the fixture: a fresh database per backend


def test_import_reports_rejected_rows_and_exits_non_zero(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    created = onethread(
        cli_env,
        "init",
        "--workspace",
        "Acme",
        "--admin-email",
        "ops@acme.io",
        "--admin-password",
        "s3cret-pass",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    workspace_id = str(json.loads(created.stdout)["workspace_id"])
    good = tmp_path / "good.csv"
    good.write_text(
        "email,name,plan,customer_since,monthly_revenue,vip\n"
        "dana@example.com,Dana,Business,2023-01-15,249,yes\n"
        "bo@example.com,Bo,Team,2024-06-01,49.90,no\n"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,plan,monthly_revenue,churned_at\n"
        "dana@example.com,Team,-1,\n"
        "bo@example.com,Starter,19,2024-05-31\n"
        "cy@example.com,Team,10,\n"
    )

    dry = onethread(cli_env, "contacts", "import", str(good), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["created"] == 2

    first = onethread(cli_env, "contacts", "import", str(good), "--workspace", workspace_id)
    assert first.returncode == 0, first.stderr
    assert "2 rows, 2 created, 0 updated, 0 unchanged, 0 rejected" in first.stdout
    assert "importing" in first.stderr  # the progress bar

    again = onethread(cli_env, "contacts", "import", str(good), "--json")
    assert json.loads(again.stdout)["unchanged"] == 2

    rejected = onethread(cli_env, "contacts", "import", str(bad))
    assert rejected.returncode == 1
    assert "3 rows, 1 created, 0 updated, 0 unchanged, 2 rejected" in rejected.stdout
    assert "monthly_revenue: -1 is negative" in rejected.stdout
    assert "churned_at 2024-05-31 is before customer_since 2024-06-01" in rejected.stdout

    missing = onethread(cli_env, "contacts", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2
    unusable = tmp_path / "unusable.csv"
    unusable.write_text("name,plan\nDana,Team\n")
    refused = onethread(cli_env, "contacts", "import", str(unusable))
    assert refused.returncode == 2
    assert "needs an id, email or phone column" in refused.stderr
