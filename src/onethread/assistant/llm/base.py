"""What the assistant needs of a language model: one async call, text in and text out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class ChatTurn:
    """One message of the conversation sent to the model (the system prompt goes apart)."""

    role: Literal["user", "assistant"]
    content: str


class LanguageModelError(RuntimeError):
    """The provider refused, failed or could not be reached; the message says which."""


class LanguageModel(Protocol):
    """A chat model. ``complete`` raises ``LanguageModelError`` on any provider failure."""

    name: str  # "provider/model", for logs

    async def complete(
        self,
        system: str,
        messages: list[ChatTurn],
        *,
        max_tokens: int,
        temperature: float,
    ) -> str: ...

    async def close(self) -> None:
        """Release the HTTP connections (at shutdown)."""
