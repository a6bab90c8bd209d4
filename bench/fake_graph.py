"""A small, fast fake of Meta's Graph API for benchmarks: raw asyncio HTTP/1.1 on loopback.

    python -m bench.fake_graph --port 8123

- ``POST /{version}/{phone_number_id}/messages`` answers as the WhatsApp Cloud API does,
  ``{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid..."}]}``,
  and counts the send.
- ``POST /ack`` answers 200 with an empty body: the trivial endpoint that shows what the
  load generator alone can drive.
- ``GET /stats`` returns the counters as JSON.

Keep-alive connections, one request at a time per connection, no chunked bodies: what
httpx and the bench's own generator send. It is not a test fake (tests/fakes/ has the
scriptable one); it only has to be cheap enough never to be the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import signal
from collections import Counter

HEAD_LIMIT = 64 * 1024


class GraphCounters:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.prefix = secrets.token_hex(6)

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if method == "POST" and path.endswith("/messages"):
            self.counts["sent"] += 1
            try:
                to = str(json.loads(body).get("to", ""))
            except (ValueError, AttributeError):
                return 400, b'{"error":{"message":"bad JSON","code":100}}'
            wamid = f"wamid.fake.{self.prefix}.{self.counts['sent']}"
            reply = {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            }
            return 200, json.dumps(reply).encode()
        if method == "POST" and path == "/ack":
            self.counts["acks"] += 1
            return 200, b""
        if method == "GET" and path == "/stats":
            return 200, json.dumps(dict(self.counts)).encode()
        self.counts["unknown"] += 1
        return 404, b'{"error":{"message":"unknown path","code":803}}'


def _response(status: int, body: bytes) -> bytes:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def serve_connection(
    counters: GraphCounters, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            length = 0
            for line in header_lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else b""
            status, answer = counters.answer(method, target.split("?", 1)[0], body)
            writer.write(_response(status, answer))
            await writer.drain()
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def serve(host: str, port: int) -> None:
    counters = GraphCounters()
    server = await asyncio.start_server(
        lambda r, w: serve_connection(counters, r, w), host, port, limit=HEAD_LIMIT, backlog=1024
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def run_loop(main: object) -> None:
    """uvloop where installed (it comes with uvicorn[standard]), else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a core dependency today
        asyncio.run(main)  # type: ignore[arg-type]
    else:
        uvloop.run(main)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fake_graph", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    run_loop(serve(args.host, args.port))


if __name__ == "__main__":
    main()
