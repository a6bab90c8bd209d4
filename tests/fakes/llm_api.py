"""A fake language-model API on loopback: OpenAI's chat completions and Anthropic's
Messages API, answering with scripted text.

    with FakeLlmApi(api_key="sk-test") as api:
        api.say("You were charged $49.00 twice.")   # the next completion's text
        api.script(status=500)                       # or: the next request fails
        api.script(delay=2.0)                        # or: the next answer is slow
        ...
        api.requests[-1].json["messages"]            # what the provider sent

Routes, each checking the documented request shape and answering 400 with the provider's
error body when it is wrong (so a provider that sends a bad request fails its test):

- ``POST /v1/chat/completions`` (OpenAI and compatible servers): ``Authorization: Bearer
  <key>``; JSON with ``model``, ``messages`` (``role`` + string ``content``) and
  ``max_tokens`` or ``max_completion_tokens``. ``refuse_legacy_parameters = True`` makes it
  refuse ``max_tokens`` and ``temperature`` as OpenAI's reasoning models do.
- ``POST /v1/messages`` (Anthropic): the key in ``x-api-key`` (or ``Authorization: Bearer``,
  as the 2.x SDKs send it) and an ``anthropic-version`` header; JSON
  with ``model``, ``max_tokens``, ``messages`` alternating ``user``/``assistant`` from
  ``user``, optional string ``system``; ``temperature`` refused as current models do.

Without a scripted text the fake echoes the last user message.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from tests.fakes.loopback import LoopbackServer, RawRequest, Reply

OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    json: Any


def openai_error(status: int, message: str, *, param: str | None = None) -> Reply:
    kinds = {401: "invalid_request_error", 429: "rate_limit_error"}
    body = {
        "error": {
            "message": message,
            "type": kinds.get(status, "invalid_request_error" if status < 500 else "server_error"),
            "param": param,
            "code": "invalid_api_key" if status == 401 else None,
        }
    }
    return Reply.json(status, body)


def anthropic_error(status: int, message: str) -> Reply:
    kinds = {
        400: "invalid_request_error",
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_error",
        529: "overloaded_error",
    }
    error = {"type": kinds.get(status, "api_error"), "message": message}
    return Reply.json(status, {"type": "error", "error": error})


class FakeLlmApi(LoopbackServer):
    thread_name = "fake-llm-api"

    def __init__(self, api_key: str = "sk-fake-test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.refuse_legacy_parameters = False
        self.requests: list[RecordedRequest] = []
        self._texts: deque[str] = deque()
        self._path = threading.local()  # which format a scripted error must take

    # --- the script ---

    def say(self, *texts: str) -> None:
        """The texts of the next completions, in order."""
        with self._lock:
            self._texts.extend(texts)

    def script(
        self, *, status: int = 200, body: Any = None, delay: float = 0.0, times: int = 1
    ) -> None:
        """The next ``times`` requests: ``status`` (an error body for non-2xx), after
        ``delay`` seconds; a 2xx still answers with the next scripted text."""
        self._queue(status, body, delay, times, None)

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    # --- serving ---

    def answer(self, raw: RawRequest) -> Reply:
        try:
            payload = json.loads(raw.body) if raw.body else None
        except ValueError:
            payload = None
        request = RecordedRequest(raw.method, raw.path, raw.headers, raw.body, payload)
        with self._lock:
            self.requests.append(request)
        self._path.value = raw.path
        if raw.method != "POST" or raw.path not in (OPENAI_PATH, ANTHROPIC_PATH):
            return self._error(404, f"no route {raw.method} {raw.path}")
        refused = self._refuse(request)
        if refused is not None:
            return refused
        return self.scripted_or(raw.path, lambda: self._complete(request))

    def scripted_error(self, status: int) -> Reply:
        return self._error(status, f"HTTP {status} from the fake model API")

    def failure(self, exc: Exception) -> Reply:
        return self._error(500, f"fake model API failed: {exc!r}")

    def _error(self, status: int, message: str, param: str | None = None) -> Reply:
        if getattr(self._path, "value", None) == ANTHROPIC_PATH:
            return anthropic_error(status, message)
        return openai_error(status, message, param=param)

    def _next_text(self, request: RecordedRequest) -> str:
        with self._lock:
            if self._texts:
                return self._texts.popleft()
        users = [m["content"] for m in request.json["messages"] if m["role"] == "user"]
        return str(users[-1]) if users else ""

    # --- request checks ---

    def _refuse(self, request: RecordedRequest) -> Reply | None:
        if request.path == OPENAI_PATH:
            return self._refuse_openai(request)
        return self._refuse_anthropic(request)

    def _refuse_openai(self, request: RecordedRequest) -> Reply | None:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return openai_error(401, "Incorrect API key provided.")
        body = request.json
        if not isinstance(body, dict):
            return openai_error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body.get("model"), str) or not body["model"]:
            return openai_error(400, "you must provide a model parameter", param="model")
        messages = body.get("messages")
        if (
            not isinstance(messages, list)
            or not messages
            or not all(
                isinstance(m, dict)
                and m.get("role") in {"system", "developer", "user", "assistant"}
                and isinstance(m.get("content"), str)
                for m in messages
            )
        ):
            return openai_error(400, "Invalid 'messages'.", param="messages")
        if self.refuse_legacy_parameters:
            for legacy in ("max_tokens", "temperature"):
                if legacy in body:
                    message = f"Unsupported parameter: '{legacy}' is not supported with this model."
                    return openai_error(400, message, param=legacy)
        limit = body.get("max_tokens", body.get("max_completion_tokens"))
        if not isinstance(limit, int) or limit < 1:
            return openai_error(400, "max_tokens must be a positive integer", param="max_tokens")
        return None

    def anthropic_key_sent(self, request: RecordedRequest) -> bool:
        """The key in ``x-api-key``, or as a bearer token (which SDKs 2.x send instead)."""
        headers = request.headers
        return self.api_key in (
            headers.get("x-api-key"),
            headers.get("authorization", "").removeprefix("Bearer "),
        )

    def _refuse_anthropic(self, request: RecordedRequest) -> Reply | None:
        if not self.anthropic_key_sent(request):
            return anthropic_error(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return anthropic_error(400, "anthropic-version: header is required")
        body = request.json
        if not isinstance(body, dict):
            return anthropic_error(400, "the request body is not valid JSON")
        if not isinstance(body.get("model"), str) or not body["model"]:
            return anthropic_error(400, "model: Field required")
        if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
            return anthropic_error(400, "max_tokens: Field required")
        if "system" in body and not isinstance(body["system"], str):
            return anthropic_error(400, "system: Input should be a valid string")
        if "temperature" in body:
            return anthropic_error(400, "`temperature` is deprecated for this model.")
        messages = body.get("messages")
        roles = [m.get("role") if isinstance(m, dict) else None for m in messages or []]
        expected = ["user" if index % 2 == 0 else "assistant" for index in range(len(roles))]
        if not roles or roles != expected:
            return anthropic_error(400, "messages: roles must alternate, starting with user")
        return None

    # --- answers ---

    def _complete(self, request: RecordedRequest) -> Reply:
        text = self._next_text(request)
        model = request.json["model"]
        if request.path == OPENAI_PATH:
            return Reply.json(
                200,
                {
                    "id": f"chatcmpl-{secrets.token_hex(8)}",
                    "object": "chat.completion",
                    "created": 1_790_000_000,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text, "refusal": None},
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                },
            )
        return Reply.json(
            200,
            {
                "id": f"msg_{secrets.token_hex(8)}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 10},
            },
        )
