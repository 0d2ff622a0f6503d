"""Domain exceptions, mapped once to RFC 9457 problem details (`application/problem+json`)."""

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError

from mla.db import CONNECTION_LOST_ERRORS, DatabaseUnreachable

log = logging.getLogger("mla.errors")
PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://mla-tracker.example/problems/"


class DomainError(Exception):
    status_code = 400
    problem = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status_code = 404
    problem = "not-found"
    title = "Not found"


class Forbidden(DomainError):
    status_code = 403
    problem = "forbidden"
    title = "Forbidden"


class Conflict(DomainError):
    status_code = 409
    problem = "conflict"
    title = "Conflict"


class StaleVersion(Conflict):
    problem = "stale-version"
    title = "Stale version"


class InvalidTransition(Conflict):
    problem = "invalid-transition"
    title = "Action not allowed in this status"


class MalformedRequest(DomainError):
    """A request that cannot be read at all: not JSON, no body, a query parameter the operation does not take."""

    problem = "malformed-request"
    title = "Malformed request"


class UnsupportedMediaType(DomainError):
    status_code = 415
    problem = "unsupported-media-type"
    title = "Unsupported media type"


class Unprocessable(DomainError):
    """Well-formed input that the domain refuses; `errors` lists the fields at fault."""

    status_code = 422
    problem = "validation-error"
    title = "Invalid input"


def problem_response(status: int, problem: str, title: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    body = {"type": _TYPE_BASE + problem, "title": title, "status": status, "detail": detail, **extra}
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def handle_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    return problem_response(exc.status_code, exc.problem, exc.title, exc.detail, **exc.extra)


def handle_validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    """Litestar's path, query and header parameter validation (bodies are checked by mla.api_input)."""
    errors = _parameter_errors(exc)
    if not errors:
        return problem_response(400, "malformed-request", "Malformed request", _first_line(exc.detail))
    return problem_response(422, "validation-error", "Invalid input", errors[0]["message"], errors=errors)


def handle_http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    problem = {
        400: ("malformed-request", "Malformed request"),
        401: ("unauthorized", "Authentication required"),
        403: ("forbidden", "Forbidden"),
        404: ("not-found", "Not found"),
        405: ("method-not-allowed", "Method not allowed"),
        413: ("payload-too-large", "Request body too large"),
        415: ("unsupported-media-type", "Unsupported media type"),
        429: ("too-many-requests", "Too many requests"),
        503: ("service-unavailable", "Service unavailable"),
    }.get(exc.status_code, ("http-error", "HTTP error"))
    headers = exc.headers or {}
    response = problem_response(exc.status_code, problem[0], problem[1], exc.detail)
    response.headers.update(headers)
    return response


def handle_internal_error(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # The only answers logged as errors, with their traceback: 4xx are the client's business.
    log.error("unhandled %s", type(exc).__name__, exc_info=exc)
    return problem_response(
        HTTP_500_INTERNAL_SERVER_ERROR, "internal-error", "Internal error", "An unexpected error occurred."
    )


def handle_unreachable_database(_: Request[Any, Any, Any], exc: DatabaseUnreachable) -> Response[dict[str, Any]]:
    """A lost or refused database connection is a 503 the client may retry; nothing was saved."""
    log.warning("database unavailable: %s", exc)
    response = problem_response(
        503,
        "database-unavailable",
        "Service unavailable",
        "The database cannot be reached; nothing was saved. Retry shortly.",
    )
    response.headers["Retry-After"] = "5"
    return response


def handle_database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[dict[str, Any]]:
    """A statement that failed because the connection went away is a 503; any other failure stays a 500."""
    if exc.connection_invalidated or _lost_connection(exc):
        return handle_unreachable_database(request, DatabaseUnreachable(type(exc.orig).__name__))
    return handle_internal_error(request, exc)


def _lost_connection(exc: DBAPIError) -> bool:
    # SQLAlchemy's asyncpg adapter raises its own DBAPI error `from` the driver's: follow `__cause__`.
    cause: BaseException | None = exc.orig
    while cause is not None:
        if isinstance(cause, CONNECTION_LOST_ERRORS):
            return True
        cause = cause.__cause__
    return False


def _parameter_errors(exc: ValidationException) -> list[dict[str, str]]:
    # `extra` is Litestar's documented list of {"key", "message", "source"} for a failed parameter.
    if not isinstance(exc.extra, list):
        return []
    errors = []
    for item in exc.extra:
        if isinstance(item, dict) and "message" in item:
            source = item.get("source", "")
            # Litestar gives a ParamType ("query", "header", "path") for parameters.
            errors.append(
                {
                    "field": str(item.get("key") or ""),
                    "message": str(item["message"]),
                    "source": str(getattr(source, "value", source)),
                }
            )
    return errors


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else "The request could not be read."


EXCEPTION_HANDLERS = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    NotAuthorizedException: handle_http_error,
    PermissionDeniedException: handle_http_error,
    HTTPException: handle_http_error,
    DatabaseUnreachable: handle_unreachable_database,
    DBAPIError: handle_database_error,
    HTTP_500_INTERNAL_SERVER_ERROR: handle_internal_error,
}
