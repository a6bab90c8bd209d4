"""Optional language models (docs/llm.md): a provider behind an extra, and the four uses
the assistant makes of it, each checked by the grounding check before its output is used.
"""

from onethread.assistant.llm.base import ChatTurn, LanguageModel, LanguageModelError
from onethread.assistant.llm.loading import LanguageModelConfigError, load_language_model
from onethread.assistant.llm.uses import GroundedPart, GroundedWriter

__all__ = [
    "ChatTurn",
    "GroundedPart",
    "GroundedWriter",
    "LanguageModel",
    "LanguageModelConfigError",
    "LanguageModelError",
    "load_language_model",
]
