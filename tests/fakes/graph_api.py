"""A fake Meta Graph API on loopback: real HTTP, Meta's documented answers, scriptable.

    with FakeGraphApi() as graph:
        config = InstagramConfig(..., api_base_url=graph.base_url)
        graph.script(status=500)              # the next request gets a 500
        ...
        graph.requests[-1].json               # what the adapter sent

Routes (REFERENCE.md §2.5, §3.1, §4):

- ``POST /{id}/messages``: WhatsApp bodies (``messaging_product``) get a fresh wamid in
  the shape of fixtures/whatsapp_send_text_response.json (``{"success": true}`` for a
  read receipt); Instagram and Messenger bodies get ``{"recipient_id", "message_id"}``.
- ``GET /{media_id}``: WhatsApp media metadata whose ``url`` points back here;
  ``GET /media-bytes/{media_id}``: the bytes. Both need ``Authorization: Bearer ...``.
- ``GET /lookaside/{asset_id}``: a CDN URL as Instagram/Messenger attachments carry;
  no token needed, it redirects to ``GET /cdn/{asset_id}`` which serves the bytes.

Unknown paths get a Graph error (404). Media bytes are ``graph.add_media(id, bytes)``,
or ``b"fake media <id>"`` for an id never added.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class ScriptedResponse:
    status: int = 200
    body: Any = None  # JSON value, raw bytes, or None for the default answer
    delay: float = 0.0
    path: str | None = None  # only for requests to this path; None: the next request


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def graph_error(message: str, code: int = 1) -> dict[str, Any]:
    """Meta's error body shape (fixtures/whatsapp_send_error_131047.json)."""
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": f"Fake{secrets.token_hex(8)}",
        }
    }


class FakeGraphApi:
    def __init__(self, access_token: str | None = None) -> None:
        """``access_token``: the only bearer accepted for media; ``None`` accepts any."""
        self.access_token = access_token
        self.requests: list[RecordedRequest] = []
        self._scripted: list[ScriptedResponse] = []
        self._media: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> FakeGraphApi:
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-graph-api"
        )  # a short poll interval: stopping takes milliseconds, not half a second
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # cuts scripted delays short
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeGraphApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- what a test controls ---

    def script(
        self,
        *,
        status: int = 200,
        body: Any = None,
        delay: float = 0.0,
        times: int = 1,
        path: str | None = None,
    ) -> None:
        """Queue the answer to the next ``times`` requests (to ``path`` if given).

        ``body=None`` answers as Meta would for a 2xx, or with a Graph error otherwise.
        """
        with self._lock:
            self._scripted.extend(ScriptedResponse(status, body, delay, path) for _ in range(times))

    def add_media(self, media_id: str, content: bytes, mime_type: str = "image/jpeg") -> None:
        self._media[media_id] = (content, mime_type)

    def media(self, media_id: str) -> tuple[bytes, str]:
        return self._media.get(media_id, (f"fake media {media_id}".encode(), "image/jpeg"))

    # --- serving ---

    def _next_scripted(self, path: str) -> ScriptedResponse | None:
        with self._lock:
            for index, scripted in enumerate(self._scripted):
                if scripted.path in (None, path):
                    return self._scripted.pop(index)
        return None

    def _answer(self, request: RecordedRequest) -> _Reply:
        self.requests.append(request)
        scripted = self._next_scripted(request.path)
        if scripted is not None:
            if scripted.delay:
                self._stopping.wait(scripted.delay)
            if scripted.body is not None or scripted.status >= 300:
                return _scripted_reply(scripted)
            default = self._route(request)
            return _Reply(scripted.status, default.body, default.content_type, default.headers)
        return self._route(request)

    def _route(self, request: RecordedRequest) -> _Reply:
        segments = [part for part in request.path.split("/") if part]
        if request.method == "POST" and len(segments) == 2 and segments[1] == "messages":
            return _json_reply(200, _send_answer(request.json or {}))
        if request.method == "GET" and len(segments) == 2 and segments[0] == "lookaside":
            location = f"{self.base_url}/cdn/{segments[1]}"
            return _Reply(302, b"", "text/plain", {"Location": location})
        if request.method == "GET" and len(segments) == 2 and segments[0] == "cdn":
            content, mime_type = self.media(segments[1])
            return _Reply(200, content, mime_type)
        if request.method == "GET" and segments and not self._authorized(request):
            return _json_reply(401, graph_error("Invalid OAuth access token.", code=190))
        if request.method == "GET" and len(segments) == 2 and segments[0] == "media-bytes":
            content, mime_type = self.media(segments[1])
            return _Reply(200, content, mime_type)
        if request.method == "GET" and len(segments) == 1:
            return _json_reply(200, self._media_metadata(segments[0]))
        return _json_reply(404, graph_error(f"Unknown path components: {request.path}", code=2500))

    def _authorized(self, request: RecordedRequest) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        return self.access_token is None or token == self.access_token

    def _media_metadata(self, media_id: str) -> dict[str, Any]:
        content, mime_type = self.media(media_id)
        return {
            "messaging_product": "whatsapp",
            "url": f"{self.base_url}/media-bytes/{media_id}",
            "mime_type": mime_type,
            "sha256": base64.b64encode(hashlib.sha256(content).digest()).decode(),
            "file_size": len(content),
            "id": media_id,
        }


def _send_answer(body: Mapping[str, Any]) -> dict[str, Any]:
    if body.get("messaging_product") == "whatsapp":
        if body.get("status") == "read":
            return {"success": True}
        to = str(body.get("to", ""))
        contact: dict[str, str] = {
            "input": to,
            "wa_id": to.lstrip("+") if to.lstrip("+").isdigit() else "",
        }
        if not contact["wa_id"]:
            contact["user_id"] = to  # a BSUID (REFERENCE.md §2.2)
        wamid = "wamid." + base64.b64encode(secrets.token_bytes(27)).decode()
        return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}
    recipient_id = (body.get("recipient") or {}).get("id")
    return {"recipient_id": recipient_id, "message_id": f"m_{secrets.token_urlsafe(24)}"}


def _json_reply(status: int, body: Any) -> _Reply:
    return _Reply(status, json.dumps(body).encode())


def _scripted_reply(scripted: ScriptedResponse) -> _Reply:
    if isinstance(scripted.body, bytes):
        return _Reply(scripted.status, scripted.body, "text/html")
    body = scripted.body
    if body is None:
        body = graph_error(f"HTTP {scripted.status} from the fake Graph API")
    return _json_reply(scripted.status, body)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer is part of the tests, not a failure


def _handler_for(graph: FakeGraphApi) -> type[BaseHTTPRequestHandler]:
    class GraphHandler(BaseHTTPRequestHandler):
        timeout = 10  # never hang a test on a half-open connection

        def _handle(self) -> None:
            target = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = RecordedRequest(
                method=self.command,
                path=target.path,
                query=dict(parse_qsl(target.query)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            try:
                reply = graph._answer(request)
            except Exception as exc:  # a bug in the fake shows up as a readable 500
                reply = _json_reply(500, graph_error(f"fake Graph API failed: {exc!r}"))
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:
                pass  # the client gave up (a timeout test): nothing to answer

        do_GET = do_POST = do_DELETE = _handle  # noqa: N815 (http.server names them)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return GraphHandler
