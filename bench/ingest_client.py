"""One load-generator process for bench/ingest.py: signed webhooks and agents' replies.

    echo '<spec JSON>' | python -m bench.ingest_client   # prints one JSON result

Kept apart from bench/ingest.py so that it imports nothing heavy: raw asyncio streams,
HTTP/1.1 keep-alive, one request in flight per connection (a closed loop), requests
built and signed as they go. Only requests that complete inside the steady window are
counted; the warm-up before it is driven the same way and thrown away.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from time import perf_counter
from typing import Any

from bench.fake_graph import run_loop

TEXTS = (
    "Hi, I was charged twice this month",
    "How do I export my data to CSV?",
    "The app crashes when I open the settings page",
    "Can I switch to the annual plan?",
    "I can't log in since yesterday",
    "Where is the invoice for last month?",
    "Thanks, that solved it!",
)
REPLIES = (
    "Thanks for writing, I'm looking into it now.",
    "Could you send me the email on the account?",
    "Done: you should see the change within a minute.",
)


@dataclass
class Spec:
    host: str
    port: int
    client: int
    connections: int
    start_at: float  # time.time() when the warm-up starts, the same for every client
    warmup: float
    seconds: float
    path: str  # the webhook path, or /ack for the generator check
    app_secret: str
    phone_number_id: str
    returning: int  # senders 0..returning-1 exist already
    new_share: float
    duplicate_share: float
    reply_every: int  # one agent reply per this many acknowledged webhooks; 0: none
    reply_connections: int = 2
    token: str = ""
    conversation_ids: list[int] = field(default_factory=list)
    seed: int = 1


@dataclass
class Result:
    client: int
    acked: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    replies: int = 0
    reply_latencies: list[float] = field(default_factory=list)
    reply_statuses: dict[str, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def returning_number(index: int) -> str:
    return f"1555{index:07d}"


def webhook_body(spec: Spec, wamid: str, number: str, name: str, text: str) -> bytes:
    """The shape of shared/channels/fixtures/whatsapp_text.json, compact as Meta sends it."""
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": spec.phone_number_id,
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": number}],
                            "messages": [
                                {
                                    "from": number,
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def http_request(spec: Spec, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"host: {spec.host}:{spec.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Plan:
    """Signed webhooks: returning customers, some first-time senders, a few resends."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed * 1000 + spec.client)
        self.sequence = 0
        self.previous: bytes | None = None

    def next_webhook(self) -> bytes:
        spec, rng = self.spec, self.rng
        if self.previous is not None and rng.random() < spec.duplicate_share:
            return self.previous  # Meta redelivers: the same bytes, the same wamid
        self.sequence += 1
        if spec.returning and rng.random() >= spec.new_share:
            index = rng.randrange(spec.returning)
            number, name = returning_number(index), f"Customer {index}"
        else:
            number = f"1777{spec.client:02d}{spec.seed % 100:02d}{self.sequence:07d}"
            name = f"New {spec.client}-{self.sequence}"
        wamid = f"wamid.bench.{spec.seed}.{spec.client}.{self.sequence}"
        body = webhook_body(spec, wamid, number, name, rng.choice(TEXTS))
        digest = hmac.new(spec.app_secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"}
        self.previous = http_request(spec, spec.path, body, headers)
        return self.previous

    def next_reply(self) -> bytes:
        conversation = self.rng.choice(self.spec.conversation_ids)
        body = json.dumps({"text": self.rng.choice(REPLIES)}).encode()
        headers = {
            "content-type": "application/json",
            "authorization": f"Bearer {self.spec.token}",
        }
        return http_request(self.spec, f"/api/v1/conversations/{conversation}/reply", body, headers)


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    """Send one request, read the whole response; its status code."""
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lowered = head.lower()
    marker = lowered.find(b"content-length:")
    if marker >= 0:
        end = lowered.find(b"\r\n", marker)
        length = int(lowered[marker + 15 : end])
        if length:
            await reader.readexactly(length)
    elif b"transfer-encoding: chunked" in lowered:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


class Driver:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.plan = Plan(spec)
        self.result = Result(spec.client)
        self.window_start = spec.start_at + spec.warmup
        self.window_end = self.window_start + spec.seconds
        self.acked_total = 0
        self.replies_started = 0
        self.statuses: Counter[str] = Counter()
        self.reply_statuses: Counter[str] = Counter()

    async def webhooks(self) -> None:
        reader, writer = await asyncio.open_connection(self.spec.host, self.spec.port)
        await asyncio.sleep(max(self.spec.start_at - time.time(), 0))
        try:
            while time.time() < self.window_end:
                raw = self.plan.next_webhook()
                started = perf_counter()
                status = await exchange(reader, writer, raw)
                elapsed = perf_counter() - started
                if status == 200:
                    self.acked_total += 1
                if self.window_start <= time.time() < self.window_end:
                    self.statuses[str(status)] += 1
                    if status == 200:
                        self.result.acked += 1
                        self.result.latencies.append(elapsed)
        finally:
            writer.close()

    async def replies(self) -> None:
        reader, writer = await asyncio.open_connection(self.spec.host, self.spec.port)
        await asyncio.sleep(max(self.spec.start_at - time.time(), 0))
        try:
            while time.time() < self.window_end:
                if self.replies_started >= self.acked_total // self.spec.reply_every:
                    await asyncio.sleep(0.002)
                    continue
                self.replies_started += 1
                started = perf_counter()
                status = await exchange(reader, writer, self.plan.next_reply())
                elapsed = perf_counter() - started
                if self.window_start <= time.time() < self.window_end:
                    self.reply_statuses[str(status)] += 1
                    if status == 201:
                        self.result.replies += 1
                        self.result.reply_latencies.append(elapsed)
        finally:
            writer.close()

    async def run(self) -> Result:
        tasks = [self.webhooks() for _ in range(self.spec.connections)]
        if self.spec.reply_every and self.spec.conversation_ids:
            tasks += [self.replies() for _ in range(self.spec.reply_connections)]
        cpu = asyncio.create_task(self.cpu_in_window())
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        self.result.errors = [repr(o) for o in outcomes if isinstance(o, BaseException)]
        self.result.cpu_seconds = await cpu
        self.result.statuses = dict(self.statuses)
        self.result.reply_statuses = dict(self.reply_statuses)
        return self.result

    async def cpu_in_window(self) -> float:
        await asyncio.sleep(max(self.window_start - time.time(), 0))
        before = time.process_time()
        await asyncio.sleep(max(self.window_end - time.time(), 0))
        return time.process_time() - before


async def drive(spec: Spec) -> Result:
    return await Driver(spec).run()


def main() -> None:
    spec = Spec(**json.loads(sys.stdin.read()))
    results: list[Result] = []

    async def run() -> None:
        results.append(await drive(spec))

    run_loop(run())
    result: dict[str, Any] = asdict(results[0])
    # Straight to the descriptor, blocking, until every byte is out: a result of more than
    # a pipe's buffer was once cut at 64 KiB.
    out = memoryview(json.dumps(result).encode())
    descriptor = sys.stdout.fileno()
    os.set_blocking(descriptor, True)
    while out:
        out = out[os.write(descriptor, out) :]


if __name__ == "__main__":
    main()
