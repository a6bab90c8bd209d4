"""A business's webhook receiver on loopback: checks each signature with its own code."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.loopback import LoopbackServer, RawRequest, Reply


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What docs/webhooks.md tells a receiver to do, written independently of our signer."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields.get("v1", ""))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    signed: bool  # the signature checked out against the receiver's secret


class WebhookReceiver(LoopbackServer):
    thread_name = "webhook-receiver"

    def __init__(self) -> None:
        super().__init__()
        self.secret = ""
        self.received: list[Received] = []
        self.redirect_to: str | None = None  # answer 307 to this path (once)

    def answer(self, raw: RawRequest) -> Reply:
        signed = verify(self.secret, raw.headers.get("x-onethread-signature", ""), raw.body)
        self.received.append(Received(raw.path, raw.headers, json.loads(raw.body), signed))
        if self.redirect_to is not None:
            location, self.redirect_to = self.redirect_to, None
            return Reply(307, b"", headers={"Location": self.base_url + location})
        return self.scripted_or(raw.path, lambda: Reply.json(200 if signed else 400, {}))

    def scripted_error(self, status: int) -> Reply:
        return Reply.json(status, {"error": "scripted"})

    def failure(self, exc: Exception) -> Reply:
        return Reply.json(500, {"error": repr(exc)})

    def script(self, status: int, times: int = 1) -> None:
        self._queue(status, None, 0.0, times, None)

    @property
    def url(self) -> str:
        return self.base_url + "/hooks/onethread"
