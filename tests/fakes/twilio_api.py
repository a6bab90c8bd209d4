"""A fake Twilio REST API on loopback: real HTTP, Twilio's documented answers, scriptable.

    with FakeTwilioApi() as api:
        config = TwilioConfig(account_sid=api.account_sid, auth_token=api.auth_token,
                              sender="+15005550006", api_base_url=api.base_url)
        api.script(status=500)                 # the next request gets a 500
        ...
        api.requests[-1].form["Body"]          # what the adapter sent

Routes (REFERENCE.md §5.3), all behind HTTP basic auth (AccountSid, auth token), with
Twilio's error body ``{"code", "message", "more_info", "status"}`` when refused:

- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: form-encoded; needs ``To``,
  ``From`` or ``MessagingServiceSid``, and ``Body``, ``ContentSid`` or ``MediaUrl``;
  answers 201 with a Message resource and a fresh ``SM…`` sid.
- ``GET /2010-04-01/Accounts/{AccountSid}.json``: the Account resource (status active).
- ``GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}``:
  redirects (307) to ``GET /media-content/{MediaSid}``, which serves the bytes, as
  Twilio hands media off to its storage. ``api.media_url(...)`` builds such URLs.

``webhook(url, fields, auth_token)`` signs a form webhook as Twilio would, for tests
that post to onethread's own endpoints.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from onethread.channels.twilio import compute_signature
from tests.fakes.loopback import LoopbackServer, RawRequest, Reply

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake_twilio_auth_token_0000000000"
API_PREFIX = "/2010-04-01/Accounts/"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    form: dict[str, str]  # the first value of each field
    form_lists: dict[str, list[str]]

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        scheme, _, encoded = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return None
        return user, password


def twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's REST error body."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def webhook(
    url: str, fields: Mapping[str, str | Sequence[str]], auth_token: str
) -> tuple[bytes, dict[str, str]]:
    """The body and headers Twilio would POST to ``url`` with ``fields``."""
    lists = {
        name: [value] if isinstance(value, str) else list(value) for name, value in fields.items()
    }
    body = urlencode([(name, value) for name, values in lists.items() for value in values])
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": compute_signature(url, lists, auth_token),
    }
    return body.encode(), headers


class FakeTwilioApi(LoopbackServer):
    thread_name = "fake-twilio"

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[RecordedRequest] = []
        self._media: dict[str, tuple[bytes, str]] = {}

    @property
    def messages_path(self) -> str:
        return f"{API_PREFIX}{self.account_sid}/Messages.json"

    @property
    def sent(self) -> list[RecordedRequest]:
        """The message creations received, in order."""
        return [r for r in self.requests if r.method == "POST" and r.path == self.messages_path]

    # --- what a test controls ---

    def script(
        self,
        *,
        status: int = 201,
        body: Any = None,
        delay: float = 0.0,
        times: int = 1,
        path: str | None = None,
    ) -> None:
        """Queue the answer to the next ``times`` requests (to ``path`` if given).

        ``body=None`` answers as Twilio would for a 2xx, or with a Twilio error otherwise.
        Authentication is checked first, as Twilio does.
        """
        self._queue(status, body, delay, times, path)

    def add_media(
        self, content: bytes, content_type: str = "image/jpeg", message_sid: str | None = None
    ) -> str:
        """Store media and return its ``MediaUrl{N}``, as an inbound webhook carries it."""
        media_sid = "ME" + secrets.token_hex(16)
        self._media[media_sid] = (content, content_type)
        return self.media_url(message_sid or "MM" + secrets.token_hex(16), media_sid)

    def media_url(self, message_sid: str, media_sid: str) -> str:
        account = f"{self.base_url}{API_PREFIX}{self.account_sid}"
        return f"{account}/Messages/{message_sid}/Media/{media_sid}"

    # --- serving ---

    def answer(self, raw: RawRequest) -> Reply:
        lists = parse_qs(raw.body.decode("utf-8", "replace"), keep_blank_values=True)
        form = {name: values[0] for name, values in lists.items()}
        request = RecordedRequest(raw.method, raw.path, raw.headers, raw.body, form, lists)
        with self._lock:
            self.requests.append(request)
        if request.path.startswith("/media-content/"):
            return self._media_content(request.path.rsplit("/", 1)[-1])
        if request.basic_auth != (self.account_sid, self.auth_token):
            return _error_reply(twilio_error(401, 20003, "Authenticate"))
        return self.scripted_or(request.path, lambda: self._route(request))

    def scripted_error(self, status: int) -> Reply:
        return _error_reply(twilio_error(status, 20500, f"HTTP {status} from the fake"))

    def failure(self, exc: Exception) -> Reply:
        return _error_reply(twilio_error(500, 20500, f"fake Twilio failed: {exc!r}"))

    def _route(self, request: RecordedRequest) -> Reply:
        if request.method == "POST" and request.path == self.messages_path:
            return self._create_message(request)
        if request.method == "GET" and request.path == f"{API_PREFIX}{self.account_sid}.json":
            return Reply.json(200, self._account())
        media_prefix = f"{API_PREFIX}{self.account_sid}/Messages/"
        if request.method == "GET" and request.path.startswith(media_prefix):
            parts = request.path.removeprefix(media_prefix).split("/")
            if len(parts) == 3 and parts[1] == "Media" and parts[2] in self._media:
                return Reply(307, b"", "text/plain", {"Location": f"/media-content/{parts[2]}"})
        message = f"The requested resource {request.path} was not found"
        return _error_reply(twilio_error(404, 20404, message))

    def _create_message(self, request: RecordedRequest) -> Reply:
        form = request.form
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return _error_reply(twilio_error(400, 20001, "Expected a form-encoded body"))
        if not form.get("To"):
            return _error_reply(twilio_error(400, 21604, "A 'To' phone number is required."))
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return _error_reply(twilio_error(400, 21603, "The 'From' phone number is required."))
        if not any(form.get(name) for name in ("Body", "ContentSid", "MediaUrl")):
            return _error_reply(twilio_error(400, 21602, "Message body is required."))
        sid = "SM" + secrets.token_hex(16)
        resource = {
            "sid": sid,
            "account_sid": self.account_sid,
            "from": form.get("From"),
            "to": form["To"],
            "body": form.get("Body", ""),
            "status": "queued",
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "error_code": None,
            "error_message": None,
            "uri": f"{API_PREFIX}{self.account_sid}/Messages/{sid}.json",
        }
        return Reply.json(201, resource)

    def _account(self) -> dict[str, Any]:
        return {
            "sid": self.account_sid,
            "friendly_name": "Fake account",
            "status": "active",
            "type": "Full",
            "uri": f"{API_PREFIX}{self.account_sid}.json",
        }

    def _media_content(self, media_sid: str) -> Reply:
        if media_sid not in self._media:
            return _error_reply(twilio_error(404, 20404, f"No media {media_sid}"))
        content, content_type = self._media[media_sid]
        return Reply(200, content, content_type)


def _error_reply(error: Mapping[str, Any]) -> Reply:
    return Reply.json(int(error["status"]), error)
