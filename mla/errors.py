"""Domain exceptions, mapped once to RFC 9457 problem details (`application/problem+json`)."""

import logging
import re
import traceback
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from mla.fields import FieldError

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
    """Litestar's body/parameter validation: malformed JSON is 400, well-formed but invalid is 422."""
    errors = _field_errors(exc)
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


def handle_undecodable_body(
    request: Request[Any, Any, Any], exc: UnicodeDecodeError | RecursionError
) -> Response[dict[str, Any]]:
    """Bad UTF-8 and too deeply nested JSON escape Litestar's body decoder as these, not as a 400."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames or frames[-1].name != "decode_json":
        return handle_internal_error(request, exc)
    detail = "The body is not valid UTF-8." if isinstance(exc, UnicodeDecodeError) else "The JSON is nested too deeply."
    return problem_response(400, "malformed-request", "Malformed request", detail)


def handle_internal_error(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # The only answers logged as errors, with their traceback: 4xx are the client's business.
    log.error("unhandled %s", type(exc).__name__, exc_info=exc)
    return problem_response(
        HTTP_500_INTERNAL_SERVER_ERROR, "internal-error", "Internal error", "An unexpected error occurred."
    )


def handle_connection_refused(request: Request[Any, Any, Any], exc: OSError) -> Response[dict[str, Any]]:
    """The pool could not open a connection at all (server down): also a 503."""
    return handle_database_error(request, DBAPIError(None, None, exc, connection_invalidated=True))


def handle_database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[dict[str, Any]]:
    """A lost or refused database connection is a 503 the client may retry; anything else stays a 500."""
    if not _is_connection_problem(exc):
        return handle_internal_error(request, exc)
    log.warning("database unavailable: %s", type(exc.orig).__name__)
    response = problem_response(
        503,
        "database-unavailable",
        "Service unavailable",
        "The database cannot be reached; nothing was saved. Retry shortly.",
    )
    response.headers["Retry-After"] = "5"
    return response


def _is_connection_problem(exc: DBAPIError) -> bool:
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return True
    cause: BaseException | None = exc.orig
    while cause is not None:  # the driver's own exception sits below SQLAlchemy's adapter
        if isinstance(cause, OSError) or type(cause).__name__ in _LOST_CONNECTION_ERRORS:
            return True
        cause = cause.__cause__
    return False


# asyncpg's names for "the server went away or is not accepting connections yet".
_LOST_CONNECTION_ERRORS = frozenset(
    {"ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError", "AdminShutdownError"}
)


# msgspec reports these, and a Struct's own refusals (FieldError), at the Struct's path.
_FIELD_IN_MESSAGE = re.compile(r"^Object (?:missing required|contains unknown) field `([^`]+)`")


def _field_errors(exc: ValidationException) -> list[dict[str, str]]:
    if not isinstance(exc.extra, list):
        return []
    # Litestar raises from msgspec's error, which is raised from the Struct's FieldError, if any.
    refused = exc.__cause__.__cause__ if exc.__cause__ is not None else None
    errors = []
    for item in exc.extra:
        if isinstance(item, dict) and "message" in item:
            message = str(item["message"])
            field = _field_path(str(item.get("key") or ""), message, refused)
            source = item.get("source", "")
            # Litestar gives "body" for the body but a ParamType ("query", "header"...) for parameters.
            errors.append({"field": field, "message": message, "source": str(getattr(source, "value", source))})
    return errors


def _field_path(key: str, message: str, refused: BaseException | None) -> str:
    """`key` is the Struct's path (`data` is the body itself); add the field the message is about."""
    if named := _FIELD_IN_MESSAGE.match(message):
        field = named.group(1)
    elif isinstance(refused, FieldError) and message and str(refused).startswith(message):
        field = refused.field
    else:
        return key
    return field if key in ("", "data") else f"{key}.{field}"


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else "The request could not be read."


EXCEPTION_HANDLERS = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    NotAuthorizedException: handle_http_error,
    PermissionDeniedException: handle_http_error,
    HTTPException: handle_http_error,
    UnicodeDecodeError: handle_undecodable_body,
    RecursionError: handle_undecodable_body,
    DBAPIError: handle_database_error,
    OSError: handle_connection_refused,
    HTTP_500_INTERNAL_SERVER_ERROR: handle_internal_error,
}
