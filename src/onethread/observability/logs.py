"""Log lines as text (the default) or JSON, one object per line, for every logger.

The JSON formatter is ours (a dozen lines; no dependency): ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, ``request_id``, ``job_id`` and ``job_kind`` when
the line was logged inside a job, ``exc_info`` as text. uvicorn's loggers are sent to
the same handler, so access lines are JSON too.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from onethread.observability import context

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class ContextFilter(logging.Filter):
    """Stamps each record with the request and job it was logged in, as it is emitted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id.get()
        if not hasattr(record, "job_id"):
            record.job_id = context.job_id.get()
            record.job_kind = context.job_kind.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        job_id = getattr(record, "job_id", None)
        if job_id is not None:
            line["job_id"] = job_id
            line["job_kind"] = getattr(record, "job_kind", None)
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the process, also handed to uvicorn."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["context"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level.upper(), "handlers": ["default"]},
        # uvicorn's loggers keep no handler of their own: their lines go through the root's.
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": level.upper()}
            for name in UVICORN_LOGGERS
        },
    }


def configure_logging(log_format: str, level: str) -> dict[str, Any]:
    """Apply the configuration; returns it for ``uvicorn.run(log_config=...)``."""
    config = logging_config(log_format, level)
    logging.config.dictConfig(config)
    return config
