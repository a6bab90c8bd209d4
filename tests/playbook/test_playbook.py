"""The playbook through the API (JSON and YAML) and the CLI, on every backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import Harness
from tests.factories import agent, workspace
from tests.test_cli import cli_env, onethread  # noqa: F401  (the fixture is used by name)

PLAYBOOK: dict[str, Any] = {
    "settings": {"tone": "friendly", "greeting": {"en": "Hi!", "fr": "Bonjour !"}},
    "topics": [
        {
            "name": "billing_charges",
            "title": "Charges and invoices",
            "domain": "service",
            "team": "Billing",
            "examples": ["I was charged twice", "why is my invoice so high"],
            "examples_by_language": {"fr": ["j'ai été débité deux fois"]},
            "resolve": "action",
            "action": "recent_charges",
        },
        {
            "name": "export_broken",
            "domain": "support",
            "examples": ["the export button does nothing"],
            "resolve": "human",
        },
    ],
    "actions": [
        {
            "name": "recent_charges",
            "kind": "http",
            "url": "{{ vars.billing }}/customers/{{ contact.attributes.customer_id }}/charges",
            "headers": {"Authorization": "Bearer {{ secrets.billing_token }}"},
            "requires": ["attributes.customer_id"],
            "reply": {"en": "{% for c in result %}{{ c.amount }} {% endfor %}"},
        }
    ],
    "vars": {"billing": "http://127.0.0.1:9"},
}


async def test_a_playbook_round_trips_through_json_and_yaml(harness: Harness) -> None:
    admin = await workspace(harness)
    assert (await admin.ok("GET", "/playbook"))["revision"] == 0
    await admin.ok("POST", "/teams", 201, json={"name": "Billing", "domain": "service"})
    saved = await admin.ok("PUT", "/playbook", json=PLAYBOOK)
    assert saved["revision"] == 1
    assert [t["name"] for t in saved["playbook"]["topics"]] == ["billing_charges", "export_broken"]

    exported = await admin.request("GET", "/playbook/yaml")
    assert exported.headers["content-type"].startswith("application/yaml")
    document = yaml.safe_load(exported.text)
    assert document["topics"][0]["examples_by_language"] == {"fr": ["j'ai été débité deux fois"]}

    reimported = await admin.ok(
        "PUT",
        "/playbook/yaml",
        content=exported.text.encode(),
        headers={"content-type": "application/yaml"},
    )
    assert reimported["revision"] == 2
    assert reimported["playbook"] == saved["playbook"]

    teammate = await agent(admin)
    assert (await teammate.ok("GET", "/playbook"))["revision"] == 2  # every agent reads it


async def test_a_playbook_naming_a_missing_team_or_action_is_refused(harness: Harness) -> None:
    admin = await workspace(harness)
    refused = await admin.request("PUT", "/playbook", json=PLAYBOOK)
    assert refused.status_code == 400
    assert refused.json()["error"]["details"] == {"unknown_teams": ["Billing"]}

    broken = {**PLAYBOOK, "actions": []}
    response = await admin.request("PUT", "/playbook", json=broken)
    assert response.status_code == 400
    assert "unknown action recent_charges" in response.text

    bad_yaml = await admin.request(
        "PUT", "/playbook/yaml", content=b"topics: [", headers={"content-type": "application/yaml"}
    )
    assert bad_yaml.status_code == 400
    assert "not valid YAML" in bad_yaml.json()["error"]["message"]
    wrong_field = await admin.request(
        "PUT",
        "/playbook/yaml",
        content=b"topics:\n  - name: x\n    domain: sales\n    examples: [a]\n    resolve: human\n",
        headers={"content-type": "application/yaml"},
    )
    assert wrong_field.status_code == 400
    assert "topics.0.domain" in wrong_field.json()["error"]["message"]
    assert (await admin.ok("GET", "/playbook"))["revision"] == 0


async def test_secrets_are_write_only(harness: Harness) -> None:
    admin = await workspace(harness)
    body = await admin.ok("PUT", "/playbook/secrets", json={"secrets": {"billing_token": "s3cr3t"}})
    assert body["secret_names"] == ["billing_token"]
    for path in ("/playbook", "/playbook/yaml", "/events?limit=100"):
        assert "s3cr3t" not in (await admin.request("GET", path)).text
    body = await admin.ok("PUT", "/playbook/secrets", json={"secrets": {"billing_token": None}})
    assert body["secret_names"] == []


def test_the_cli_imports_and_exports_a_playbook(cli_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    created = onethread(
        cli_env,
        "init",
        "--workspace",
        "Acme",
        "--admin-email",
        "a@example.com",
        "--admin-password",
        "long enough pw",
    )
    assert created.returncode == 0, created.stderr
    source = tmp_path / "in.yaml"
    source.write_text(yaml.safe_dump({**PLAYBOOK, "topics": PLAYBOOK["topics"][1:]}))
    imported = onethread(cli_env, "playbook", "import", str(source))
    assert imported.returncode == 0, imported.stderr
    assert "revision 1" in imported.stdout
    exported = onethread(cli_env, "playbook", "export", "-")
    assert exported.returncode == 0, exported.stderr
    assert yaml.safe_load(exported.stdout)["topics"][0]["name"] == "export_broken"

    source.write_text("topics:\n  - name: Bad Name\n")
    refused = onethread(cli_env, "playbook", "import", str(source))
    assert refused.returncode == 2
    assert "topics.0" in refused.stderr
