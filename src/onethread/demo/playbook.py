"""The demo playbook (``playbook.yaml``, package data) and what it needs at run time.

The YAML names the billing API's base URL in ``vars.billing_api``; the demo fills it in
with the address its own server answers on, and its bearer token is a playbook secret
derived from the instance's secret key (stored sealed with the playbook, never in it).
"""

from __future__ import annotations

import hashlib
import hmac
from importlib import resources
from typing import Any

import yaml

from onethread.demo.billing_api import MOUNT_PATH
from onethread.playbook.schemas import Playbook
from onethread.settings import Settings

BILLING_API_VAR = "billing_api"
BILLING_TOKEN_SECRET = "billing_api_token"
_ANY_ADDRESS = {"", "0.0.0.0", "::"}


def demo_playbook_document() -> dict[str, Any]:
    """The YAML as a dict, as ``onethread playbook import`` would read it."""
    text = resources.files("onethread.demo").joinpath("playbook.yaml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def demo_playbook(billing_api: str) -> Playbook:
    """The validated demo playbook whose actions call the billing API at ``billing_api``."""
    document = demo_playbook_document()
    document.setdefault("vars", {})[BILLING_API_VAR] = billing_api.rstrip("/")
    return Playbook.model_validate(document)


def billing_api_token(settings: Settings) -> str:
    """The demo billing API's bearer token: stable for an instance, unknown outside it."""
    key = settings.effective_secret_key.encode()
    return hmac.new(key, b"onethread demo billing api", hashlib.sha256).hexdigest()[:40]


def demo_playbook_secrets(settings: Settings) -> dict[str, str]:
    return {BILLING_TOKEN_SECRET: billing_api_token(settings)}


def billing_api_url(settings: Settings, host: str | None = None, port: int | None = None) -> str:
    """Where the demo's actions reach the billing API.

    ``ONETHREAD_PUBLIC_URL`` when it is set (workers on other machines go through it),
    else the address the demo server binds, on loopback when it binds every interface."""
    if "public_url" in settings.model_fields_set:
        return settings.public_path_url(MOUNT_PATH)
    bound = host or settings.host
    if bound in _ANY_ADDRESS:
        bound = "127.0.0.1"
    if ":" in bound:
        bound = f"[{bound}]"
    return f"http://{bound}:{port or settings.port}{MOUNT_PATH}"
