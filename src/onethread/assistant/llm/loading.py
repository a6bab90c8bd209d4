"""``load_language_model(settings)``: the configured model, or None when there is none.

Called once at startup: a provider that is set but whose extra is not installed, or has no
model name, stops the process with a message that says what to install or set, rather than
failing on the first customer message.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from onethread.assistant.llm.base import LanguageModel
from onethread.settings import Settings


class LanguageModelConfigError(RuntimeError):
    """The language model settings cannot work as they are; the message says how to fix it."""


@dataclass(frozen=True)
class Provider:
    sdk: str  # the module its extra installs
    extra: str
    module: str  # ours, imported only when the SDK is there
    factory: str  # the class in ``module``
    key_required: bool


PROVIDERS: dict[Literal["openai", "anthropic"], Provider] = {
    "openai": Provider(
        "openai", "openai", "onethread.assistant.llm.openai_chat", "OpenAIChatModel", False
    ),
    "anthropic": Provider(
        "anthropic",
        "anthropic",
        "onethread.assistant.llm.anthropic_messages",
        "AnthropicMessagesModel",
        True,
    ),
}


def load_language_model(settings: Settings) -> LanguageModel | None:
    if settings.llm_provider == "none":
        return None
    provider = PROVIDERS[settings.llm_provider]
    variable = "ONETHREAD_LLM_PROVIDER"
    try:
        importlib.import_module(provider.sdk)
    except ImportError as error:
        raise LanguageModelConfigError(
            f"{variable}={settings.llm_provider} needs the {provider.sdk!r} package: "
            f"pip install 'onethread[{provider.extra}]'"
        ) from error
    if not settings.llm_model:
        raise LanguageModelConfigError(
            f"{variable}={settings.llm_provider} needs a model: set ONETHREAD_LLM_MODEL"
        )
    api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    if provider.key_required and not api_key:
        raise LanguageModelConfigError(
            f"{variable}={settings.llm_provider} needs a key: set ONETHREAD_LLM_API_KEY"
        )
    factory: Callable[..., LanguageModel] = getattr(
        importlib.import_module(provider.module), provider.factory
    )
    return factory(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=api_key,
        timeout=settings.llm_timeout_seconds,
    )
