"""Anthropic's Messages API (``POST {base_url}/v1/messages``), through the official
``anthropic`` SDK (the ``[anthropic]`` extra), with every argument explicit and no retries.

``temperature`` is not sent: current Claude models refuse sampling parameters (400) and
recent SDKs no longer take them; the prompts ask for plain, literal wording instead.
"""

from __future__ import annotations

from typing import Any

import anthropic

from onethread.assistant.llm.base import ChatTurn, LanguageModelError

ANTHROPIC_BASE_URL = "https://api.anthropic.com"


class AnthropicMessagesModel:
    def __init__(
        self, *, model: str, base_url: str | None, api_key: str | None, timeout: float
    ) -> None:
        self.name = f"anthropic/{model}"
        self.model = model
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url or ANTHROPIC_BASE_URL,
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
        payload: list[Any] = [{"role": turn.role, "content": turn.content} for turn in messages]
        try:
            message = await self._client.messages.create(
                model=self.model, system=system, messages=payload, max_tokens=max_tokens
            )
        except anthropic.AnthropicError as error:
            raise LanguageModelError(f"{self.name}: {error}") from error
        return "".join(block.text for block in message.content if block.type == "text")

    async def close(self) -> None:
        await self._client.close()
