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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.loopback import LoopbackServer, RawRequest, Reply


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


class FakeGraphApi(LoopbackServer):
    thread_name = "fake-graph-api"
    methods = ("GET", "POST", "DELETE")

    def __init__(self, access_token: str | None = None) -> None:
        """``access_token``: the only bearer accepted for media; ``None`` accepts any."""
        super().__init__()
        self.access_token = access_token
        self.requests: list[RecordedRequest] = []
        self._media: dict[str, tuple[bytes, str]] = {}

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
        self._queue(status, body, delay, times, path)

    def add_media(self, media_id: str, content: bytes, mime_type: str = "image/jpeg") -> None:
        self._media[media_id] = (content, mime_type)

    def media(self, media_id: str) -> tuple[bytes, str]:
        return self._media.get(media_id, (f"fake media {media_id}".encode(), "image/jpeg"))

    # --- serving ---

    def answer(self, raw: RawRequest) -> Reply:
        request = RecordedRequest(
            raw.method, raw.path, dict(parse_qsl(raw.query)), raw.headers, raw.body
        )
        with self._lock:
            self.requests.append(request)
        return self.scripted_or(request.path, lambda: self._route(request))

    def scripted_error(self, status: int) -> Reply:
        return Reply.json(status, graph_error(f"HTTP {status} from the fake Graph API"))

    def failure(self, exc: Exception) -> Reply:
        return Reply.json(500, graph_error(f"fake Graph API failed: {exc!r}"))

    def _route(self, request: RecordedRequest) -> Reply:
        segments = [part for part in request.path.split("/") if part]
        if request.method == "POST" and len(segments) == 2 and segments[1] == "messages":
            return Reply.json(200, _send_answer(request.json or {}))
        if request.method == "GET" and len(segments) == 2 and segments[0] == "lookaside":
            location = f"{self.base_url}/cdn/{segments[1]}"
            return Reply(302, b"", "text/plain", {"Location": location})
        if request.method == "GET" and len(segments) == 2 and segments[0] == "cdn":
            content, mime_type = self.media(segments[1])
            return Reply(200, content, mime_type)
        if request.method == "GET" and segments and not self._authorized(request):
            return Reply.json(401, graph_error("Invalid OAuth access token.", code=190))
        if request.method == "GET" and len(segments) == 2 and segments[0] == "media-bytes":
            content, mime_type = self.media(segments[1])
            return Reply(200, content, mime_type)
        if request.method == "GET" and len(segments) == 1:
            return Reply.json(200, self._media_metadata(segments[0]))
        return Reply.json(404, graph_error(f"Unknown path components: {request.path}", code=2500))

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
