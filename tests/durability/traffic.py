"""Traffic for the durability tests: signed WhatsApp webhooks at a steady rate, retried
like Meta retries what was not acknowledged, and agents' replies through the API.

Kept here rather than imported from bench/ (tests never import bench): the same payload
shape as bench/ingest_client.py, written for clarity rather than for load.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 2.0
REQUEST_TIMEOUT_SECONDS = 10.0


def whatsapp_webhook(phone_number_id: str, wamid: str, sender: str, text: str) -> bytes:
    """The shape of shared/channels/fixtures/whatsapp_text.json, compact as Meta sends it."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": f"Customer {sender}"}, "wa_id": sender}],
        "messages": [
            {
                "from": sender,
                "id": wamid,
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


@dataclass
class Inbox:
    """What the traffic needs to know about the WhatsApp inbox it writes to."""

    id: int
    phone_number_id: str
    app_secret: str
    token: str  # an agent's API token, for replies
    conversation_ids: list[int] = field(default_factory=list)


@dataclass
class Tally:
    """What the traffic saw: which messages were acknowledged, every status received."""

    acked_wamids: set[str] = field(default_factory=set)
    webhook_statuses: Counter[str] = field(default_factory=Counter)
    acked_replies: set[str] = field(default_factory=set)
    reply_statuses: Counter[str] = field(default_factory=Counter)
    slowest_answer: float = 0.0
    slowest_request: str = ""
    slowest_by_status: dict[str, float] = field(default_factory=dict)
    given_up: list[str] = field(default_factory=list)


class Traffic:
    """Sends to every URL of ``urls`` in turn, as a load balancer would spread it."""

    def __init__(self, urls: list[str], inbox: Inbox, *, senders: int = 20) -> None:
        self.urls = urls
        self.inbox = inbox
        self.senders = [f"1555{number:07d}" for number in range(1, senders + 1)]
        self.tally = Tally()
        self._turn = itertools.count()
        self._client = httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS)

    async def close(self) -> None:
        await self._client.aclose()

    def _next_url(self) -> str:
        return self.urls[next(self._turn) % len(self.urls)]

    async def _post(self, path: str, body: bytes, headers: dict[str, str]) -> str:
        """One attempt; the status as text, or the transport error's name."""
        started = time.monotonic()
        try:
            response = await self._client.post(
                self._next_url() + path, content=body, headers=headers
            )
            status = str(response.status_code)
        except httpx.TransportError as exc:
            status = type(exc).__name__
        took = time.monotonic() - started
        slowest = self.tally.slowest_by_status
        slowest[status] = max(slowest.get(status, 0.0), took)
        if took > self.tally.slowest_answer:
            self.tally.slowest_answer = took
            self.tally.slowest_request = f"{path} answered {status} after {took:.2f} s"
        return status

    async def webhook(self, wamid: str, sender: str, text: str, *, give_up_after: float) -> bool:
        """Deliver one message until acknowledged with 200, backing off like Meta."""
        body = whatsapp_webhook(self.inbox.phone_number_id, wamid, sender, text)
        digest = hmac.new(self.inbox.app_secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"}
        deadline = time.monotonic() + give_up_after
        delay = RETRY_FIRST_SECONDS
        while True:
            status = await self._post(f"/webhooks/whatsapp/{self.inbox.id}", body, headers)
            self.tally.webhook_statuses[status] += 1
            if status == "200":
                self.tally.acked_wamids.add(wamid)
                return True
            if time.monotonic() + delay > deadline:
                self.tally.given_up.append(wamid)
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def reply(self, conversation_id: int, text: str) -> str:
        """One agent reply, not retried: an agent sees the error and decides."""
        body = json.dumps({"text": text}).encode()
        headers = {
            "content-type": "application/json",
            "authorization": f"Bearer {self.inbox.token}",
        }
        status = await self._post(f"/api/v1/conversations/{conversation_id}/reply", body, headers)
        self.tally.reply_statuses[status] += 1
        if status == "201":
            self.tally.acked_replies.add(text)
        return status

    async def run(
        self, seconds: float, *, webhooks_per_second: float, replies_per_second: float, tag: str
    ) -> None:
        """Steady traffic for ``seconds``; returns once every webhook was acknowledged or
        given up (after ``seconds`` more of retrying)."""
        pending: set[asyncio.Task[Any]] = set()
        started = time.monotonic()
        sent = replied = 0
        while (elapsed := time.monotonic() - started) < seconds:
            while sent < elapsed * webhooks_per_second:
                sender = self.senders[sent % len(self.senders)]
                wamid = f"wamid.{tag}.{sent}"
                work = self.webhook(wamid, sender, f"message {sent}", give_up_after=seconds)
                pending.add(asyncio.create_task(work))
                sent += 1
            while replied < elapsed * replies_per_second and self.inbox.conversation_ids:
                conversation = self.inbox.conversation_ids[
                    replied % len(self.inbox.conversation_ids)
                ]
                pending.add(asyncio.create_task(self.reply(conversation, f"reply {tag} {replied}")))
                replied += 1
            pending = {task for task in pending if not task.done()}
            await asyncio.sleep(0.02)
        await asyncio.gather(*pending)
