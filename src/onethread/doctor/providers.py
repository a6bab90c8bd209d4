"""Each inbox's provider credentials, tried with one harmless read at the provider.

Meta (WhatsApp, Messenger, Instagram): ``GET {api_base_url}/{the account's id}`` with the
inbox's access token. Twilio: ``GET /2010-04-01/Accounts/{AccountSid}.json`` with the
account SID and auth token. Sandbox inboxes and the web chat call no provider.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import select

from onethread.channels.meta import bearer, graph_error, graph_url
from onethread.db.database import Database
from onethread.doctor.result import Finding, fail, ok, skip
from onethread.inboxes.channel_config import (
    ChannelConfig,
    InstagramConfig,
    MessengerConfig,
    MetaConfig,
    TwilioConfig,
    WhatsAppConfig,
)
from onethread.inboxes.models import Inbox
from onethread.inboxes.secrets import SecretBox
from onethread.inboxes.service import full_config

Probe = Callable[[httpx.AsyncClient, Any], Awaitable[str | None]]  # None: fine; else what is wrong


def _meta_account_id(config: MetaConfig) -> str:
    if isinstance(config, WhatsAppConfig):
        return config.phone_number_id
    if isinstance(config, MessengerConfig):
        return config.page_id
    assert isinstance(config, InstagramConfig)
    return config.account_id


async def _probe_meta(http: httpx.AsyncClient, config: MetaConfig) -> str | None:
    if config.access_token is None:
        return "no access token is set: the inbox cannot send replies."
    url = graph_url(config, _meta_account_id(config))
    response = await http.get(url, headers=bearer(config))
    if response.status_code == 200:
        return None
    refused = graph_error(response)
    return (
        f"the Graph API refused the access token ({response.status_code}, code "
        f"{refused.code}): {refused.reason}"
    )


async def _probe_twilio(http: httpx.AsyncClient, config: TwilioConfig) -> str | None:
    if config.auth_token is None:
        return "no auth token is set: the inbox cannot send replies."
    url = f"{str(config.api_base_url).rstrip('/')}/2010-04-01/Accounts/{config.account_sid}.json"
    response = await http.get(url, auth=(config.account_sid, config.auth_token.get_secret_value()))
    if response.status_code == 200:
        status = _json(response).get("status")
        if status not in (None, "active"):
            return f"the Twilio account is {status}, not active."
        return None
    body = _json(response)
    message = body.get("message") or response.reason_phrase
    refusal = f"{response.status_code}, code {body.get('code')}"
    return f"Twilio refused the account SID and auth token ({refusal}): {message}"


PROBES: list[tuple[type[ChannelConfig], Probe]] = [
    (MetaConfig, _probe_meta),
    (TwilioConfig, _probe_twilio),
]


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def _check_one(http: httpx.AsyncClient, box: SecretBox, inbox: Inbox) -> Finding:
    name = f"inbox {inbox.id} ({inbox.channel}, {inbox.name!r})"
    try:
        config = full_config(inbox, box)
    except Exception as exc:
        return fail(name, f"its settings or secrets cannot be read: {exc}")
    if config.sandbox:
        return ok(name, "sandbox: replies stay here, no provider to check.")
    probe = next((probe for kind, probe in PROBES if isinstance(config, kind)), None)
    if probe is None:
        return ok(name, "no provider credentials to check.")
    try:
        problem = await probe(http, config)
    except httpx.HTTPError as exc:
        return fail(name, f"the provider could not be reached: {type(exc).__name__}: {exc}")
    except Exception as exc:  # a malformed base URL or answer: this inbox fails, not doctor
        return fail(name, f"the provider could not be checked: {type(exc).__name__}: {exc}")
    return (
        ok(name, "the provider accepts its credentials.")
        if problem is None
        else fail(name, problem)
    )


async def check_inboxes(db: Database, box: SecretBox | None, wait_seconds: float) -> list[Finding]:
    async with db.read_session() as session:
        inboxes = list((await session.scalars(select(Inbox).order_by(Inbox.id))).all())
    if not inboxes:
        return [ok("inboxes", "no inbox is connected yet.")]
    if box is None:
        return [skip("inboxes", "no secret key is set or stored: inbox secrets cannot be read.")]
    async with httpx.AsyncClient(timeout=wait_seconds) as http:
        return list(await asyncio.gather(*(_check_one(http, box, inbox) for inbox in inboxes)))
