"""OpenAI-compatible chat completions: OpenAI, Azure OpenAI (v1 API), Ollama, vLLM and the
llama.cpp server all speak ``POST {base_url}/chat/completions``.

Uses the official ``openai`` SDK (the ``[openai]`` extra). Every argument is passed
explicitly, so the SDK never falls back to its own environment variables for the key or
the URL; retries are off because the assistant has its own time budget and a template to
fall back on.

Requests carry ``max_tokens`` and ``temperature``, which every compatible server accepts.
OpenAI's reasoning models refuse both (they want ``max_completion_tokens`` and the default
temperature): when a server answers 400 naming one of them, the request is sent again once
in that newer shape, and the model keeps using it.
"""

from __future__ import annotations

import logging
from typing import Any

import openai

from onethread.assistant.llm.base import ChatTurn, LanguageModelError

log = logging.getLogger(__name__)

OPENAI_BASE_URL = "https://api.openai.com/v1"
# Local servers ignore the key, but the SDK insists on having one.
NO_KEY = "none"
_LEGACY_PARAMETERS = ("max_tokens", "temperature")


class OpenAIChatModel:
    def __init__(
        self, *, model: str, base_url: str | None, api_key: str | None, timeout: float
    ) -> None:
        self.name = f"openai/{model}"
        self.model = model
        self._reasoning_shape = False
        self._client = openai.AsyncOpenAI(
            api_key=api_key or NO_KEY,
            base_url=base_url or OPENAI_BASE_URL,
            timeout=timeout,
            max_retries=0,
        )

    async def complete(
        self,
        system: str,
        messages: list[ChatTurn],
        *,
        max_tokens: int,
        temperature: float,
    ) -> str:
        payload: list[Any] = [{"role": "system", "content": system}]
        payload += [{"role": turn.role, "content": turn.content} for turn in messages]
        try:
            try:
                response = await self._create(payload, max_tokens, temperature)
            except openai.BadRequestError as error:
                if self._reasoning_shape or not _refuses_legacy_parameters(error):
                    raise
                log.info(
                    "%s refuses max_tokens/temperature; using max_completion_tokens", self.name
                )
                self._reasoning_shape = True
                response = await self._create(payload, max_tokens, temperature)
        except openai.OpenAIError as error:
            raise LanguageModelError(f"{self.name}: {error}") from error
        if not response.choices:
            raise LanguageModelError(f"{self.name}: the answer has no choices")
        return response.choices[0].message.content or ""

    async def _create(self, payload: list[Any], max_tokens: int, temperature: float) -> Any:
        if self._reasoning_shape:
            return await self._client.chat.completions.create(
                model=self.model, messages=payload, max_completion_tokens=max_tokens
            )
        return await self._client.chat.completions.create(
            model=self.model, messages=payload, max_tokens=max_tokens, temperature=temperature
        )

    async def close(self) -> None:
        await self._client.close()


def _refuses_legacy_parameters(error: openai.BadRequestError) -> bool:
    body = error.body if isinstance(error.body, dict) else {}
    named = f"{body.get('param') or ''} {body.get('message') or ''} {error.message}"
    return any(parameter in named for parameter in _LEGACY_PARAMETERS)
