"""Logging: JSON lines with request/interaction ids, configured once by the app factory or CLI.

Transcript text and matched phrases are personal data: modules log ids, counts and durations
only, never content, at INFO.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import time
from typing import Any

import orjson

from nlp_service.settings import Settings

__all__ = ["request_id_var", "interaction_id_var", "configure_logging", "JsonFormatter"]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
interaction_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("interaction_id", default=None)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.interaction_id = interaction_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("request_id", "interaction_id"):
            value = getattr(record, key, None)
            if value:
                out[key] = value
        for key in ("method", "path", "status", "duration_ms"):
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def configure_logging(settings: Settings, *, cli: bool = False) -> None:
    level = "WARNING" if cli else settings.log_level.upper()
    formatter = "json" if settings.log_json and not cli else "plain"
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": _ContextFilter}},
        "formatters": {
            "json": {"()": JsonFormatter},
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": formatter, "filters": ["context"]}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {name: {"level": "WARNING"} for name in
                    ("jieba", "faster_whisper", "httpx", "httpcore", "transformers", "urllib3", "uvicorn.access",
                     "alembic")},
    })
