"""The one place that reads the environment (prefix ``ONETHREAD_``)."""

from __future__ import annotations

import logging
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

SECRET_KEY_FILE = "secret_key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONETHREAD_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Where the embedded database, the generated secret key and stored media live.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy async URL; default: a SQLite file under the data directory.",
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        description="PostgreSQL connections each process keeps open (docs/deploy.md).",
    )
    db_max_overflow: int = Field(
        default=10,
        ge=0,
        description="More PostgreSQL connections a process may open under load, closed after.",
    )
    redis_url: str | None = Field(
        default=None, description="Redis for realtime and presence across processes; optional."
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs sessions and encrypts "
        "inbox secrets; generated and persisted when absent.",
    )
    public_url: str = Field(
        default="http://localhost:8000",
        description="Externally visible base URL, used for webhook URLs and provider signatures.",
    )
    media_dir: Path | None = Field(
        default=None,
        description="Where inbound attachments are stored; default: data_dir/media.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    session_days: int = Field(default=14, description="Lifetime of a browser sign-in.")
    login_attempts: int = Field(
        default=10,
        description="Failed sign-ins allowed per account and per address in the login window.",
    )
    login_window_seconds: int = 300
    max_body_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="Largest request body of a JSON API call; webhooks, the widget and "
        "file uploads have their own limits (docs/limits.md).",
    )
    worker_poll_seconds: float = 0.5
    voice_reply_seconds: float = Field(
        default=3.0,
        description="How long a call waits for the reply before a holding line "
        "(Twilio allows 15 s per webhook).",
    )
    voice_max_waits: int = Field(
        default=3, description="Holding lines in a row before a call is transferred or ended."
    )
    job_lease_seconds: int = 300
    webhook_allow_private: bool = Field(
        default=False,
        description="Let outbound webhook subscriptions target loopback and private "
        "addresses (refused by default against SSRF; docs/webhooks.md).",
    )
    realtime_presence_seconds: float = Field(
        default=30.0, gt=0, description="How long an agent shows as viewing without a ping."
    )
    realtime_typing_seconds: float = Field(
        default=6.0, gt=0, description="How long an agent shows as typing without a new keystroke."
    )
    realtime_replay_limit: int = Field(
        default=500, ge=0, description="Most events replayed to a resuming socket; else refetch."
    )
    encoder: Literal["auto", "minilm", "lexical"] = Field(
        default="auto",
        description="The assistant's text encoder: all-MiniLM-L6-v2 when its package is "
        "installed (auto), always it (minilm), or the hashed-words fallback (lexical).",
    )
    llm_provider: Literal["none", "openai", "anthropic"] = Field(
        default="none",
        description="Optional language model (docs/llm.md): none, an OpenAI-compatible "
        "chat-completions API (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp), or Anthropic.",
    )
    llm_base_url: str | None = Field(
        default=None,
        description="The provider's API base URL (with /v1 for OpenAI-compatible servers); "
        "default: the provider's public API.",
    )
    llm_model: str = Field(default="", description="Model (or Azure deployment) name.")
    llm_api_key: SecretStr | None = Field(
        default=None, description="API key; local servers such as Ollama need none."
    )
    llm_timeout_seconds: float = Field(
        default=20.0, gt=0, description="Longest wait for one model call before falling back."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as text, or as one JSON object per line with the request id "
        "(docs/operations.md).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="The lowest level logged."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, GET /metrics requires Authorization: Bearer <it>; else it is open.",
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port where `onethread worker` serves /metrics (on ONETHREAD_HOST); off "
        "when unset.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'onethread.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def existing_secret_key(self) -> str | None:
        """The configured key, else the one persisted under data_dir; None when neither is
        there (``onethread doctor`` reads it so, never generating one)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / SECRET_KEY_FILE
        return path.read_text().strip() if path.exists() else None

    @cached_property
    def effective_secret_key(self) -> str:
        """The configured key, else the one persisted under data_dir, else a new one."""
        existing = self.existing_secret_key()
        if existing is not None:
            return existing
        path = self.data_dir / SECRET_KEY_FILE
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key + "\n")
        path.chmod(0o600)
        log.warning(
            "ONETHREAD_SECRET_KEY is not set: generated one and saved it to %s. "
            "Set ONETHREAD_SECRET_KEY in production so that every process shares it.",
            path,
        )
        return key

    @property
    def resolved_media_dir(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    def public_path_url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path


def get_settings() -> Settings:
    return Settings()
