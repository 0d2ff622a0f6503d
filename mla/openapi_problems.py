"""Make the OpenAPI document say what the API really answers: summaries, descriptions and errors.

Litestar documents each operation with its docstring (`use_handler_docstrings`) and, for errors,
only a `400 application/json {status_code, detail, extra}` that our exception handlers never send
(mla.errors answers RFC 9457 `application/problem+json`). `document_problems` post-processes the
generated document once, in `create_app`:

- the docstring's first paragraph becomes the operation's summary, the rest its description;
- Litestar's 400 is replaced, and every operation gets the problems that follow from its shape
  and its handler (a bearer token: 401 and 503; a guard that may refuse: 403; a path id: 404; a
  body: 413/415/422; parameters: 422; a database session: 503; every one: 400 for an unknown
  query parameter);
- a handler declares the problems only its logic knows (409, 429, a login's 401) with
  `responses={409: problem("...")}`; every error response without a body gets the `Problem` one.
"""

import re

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)
from litestar.routes import HTTPRoute

from mla.errors import PROBLEM_JSON
from mla.guards import PLATFORM_ADMINS_OPT
from mla.users.authentication import PUBLIC_PATHS

PROBLEM = "Problem"
FIELD_PROBLEM = "FieldProblem"

_RETRY_AFTER = {
    "Retry-After": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER), description="Seconds to wait before trying again."
    )
}

_STRING = Schema(type=OpenAPIType.STRING)
_SCHEMAS = {
    FIELD_PROBLEM: Schema(
        type=OpenAPIType.OBJECT,
        required=["field", "message"],
        properties={
            "field": Schema(
                type=OpenAPIType.STRING,
                description="The field at fault, dotted for nested ones (`parties.0.country`); the "
                "parameter's or header's name for those.",
            ),
            "message": _STRING,
            "source": Schema(type=OpenAPIType.STRING, description="`body`, `query`, `path` or `header`, when known."),
        },
    ),
    PROBLEM: Schema(
        type=OpenAPIType.OBJECT,
        required=["type", "title", "status", "detail"],
        description="An RFC 9457 problem. Some problems add members: `errors` (422: every field at fault), "
        "`current_version` (409 stale-version), `failing_checks` (409: the checks blocking an approval), "
        "`limit` (409: the extension a preservation allows).",
        properties={
            "type": Schema(
                type=OpenAPIType.STRING,
                description="A URI naming the kind of problem, e.g. "
                "`https://mla-tracker.example/problems/stale-version`: branch on it, not on `title`.",
            ),
            "title": _STRING,
            "status": Schema(type=OpenAPIType.INTEGER, description="The HTTP status, repeated."),
            "detail": Schema(type=OpenAPIType.STRING, description="What went wrong, for a person to act on."),
            "errors": Schema(type=OpenAPIType.ARRAY, items=Reference(ref=f"#/components/schemas/{FIELD_PROBLEM}")),
        },
    ),
}

MALFORMED = "Malformed request: a query parameter this operation does not take."
MALFORMED_BODY = (
    "Malformed request: a query parameter this operation does not take, or a body that cannot be read as JSON "
    "(none, invalid UTF-8 or JSON, nested too deeply)."
)
UNAUTHENTICATED = "No valid bearer token: missing, expired or revoked, or its user is disabled."
FORBIDDEN = (
    "Your roles do not allow this here (a platform administrator reaches only the installation's administration)."
)
NOT_FOUND = "No such resource, or none you may see: another organisation's data is never revealed."
TOO_LARGE = "The body is larger than the installation's limit (MLA_MAX_BODY_BYTES)."
NOT_JSON = "The body is declared as something else than JSON (`Content-Type` must be `application/json`)."
INVALID = "Well-formed but invalid input: `errors` names every field or parameter at fault."
# A write based on an old version of a request (mla.requests.service.check_version).
STALE_VERSION = "The `version` sent (body or `If-Match`) is not the request's current one (`current_version`)"
UNAVAILABLE = "The database cannot be reached; nothing was saved. Retry after `Retry-After` seconds."


def problem(description: str) -> ResponseSpec:
    """An error answer only the handler knows of (409, 429...); `document_problems` gives it the body."""
    return ResponseSpec(data_container=None, description=description)


def document_problems(app: Litestar) -> None:
    """Rewrite `app`'s OpenAPI document in place (see the module's docstring), before it is served."""
    schema = app.openapi_schema
    paths = schema.paths or {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or (path_item := paths.get(route.path_format)) is None:
            continue
        # What the authentication middleware lets through without a token (Litestar would show the
        # document's bearer requirement on them: it drops an empty `security`).
        public = any(re.search(pattern, route.path) for pattern in PUBLIC_PATHS)
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if (operation := getattr(path_item, method.lower(), None)) is not None:
                    if public:
                        operation.security = []
                    _split_docstring(operation)
                    _document_operation(operation, _inferred(operation, handler, secured=not public))
    if schema.components.schemas is None:
        schema.components.schemas = {}
    schema.components.schemas.update(_SCHEMAS)


def _split_docstring(operation: Operation) -> None:
    first, _, rest = (operation.description or "").partition("\n\n")
    if first:
        operation.summary = " ".join(first.split())
    operation.description = rest.strip() or None


def _document_operation(operation: Operation, inferred: dict[str, str]) -> None:
    responses = operation.responses if operation.responses is not None else {}
    # Litestar's 400 describes a body our handlers never send; no handler declares its own.
    responses["400"] = OpenAPIResponse(description=MALFORMED if operation.request_body is None else MALFORMED_BODY)
    for status, description in inferred.items():
        responses.setdefault(status, OpenAPIResponse(description=description))
    for status, response in responses.items():
        if isinstance(response, OpenAPIResponse) and int(status) >= 400 and response.content is None:
            response.content = {PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref=f"#/components/schemas/{PROBLEM}"))}
            if status in ("429", "503"):
                response.headers = _RETRY_AFTER
    operation.responses = dict(sorted(responses.items()))


def _inferred(operation: Operation, handler: HTTPRouteHandler, secured: bool) -> dict[str, str]:
    """The problems an operation answers by its shape and guards (its handler declares the others)."""
    has_body = operation.request_body is not None
    parameters = operation.parameters or []
    inferred = {}
    if secured:
        inferred["401"] = UNAUTHENTICATED
        if _may_refuse(handler):
            inferred["403"] = FORBIDDEN
    if any(getattr(parameter, "param_in", None) == "path" for parameter in parameters):
        inferred["404"] = NOT_FOUND
    if has_body:
        inferred.update({"413": TOO_LARGE, "415": NOT_JSON})
    if has_body or parameters:
        inferred["422"] = INVALID
    # The bearer token is looked up in the database before any handler runs.
    if secured or "session" in handler.parsed_fn_signature.parameters:
        inferred["503"] = UNAVAILABLE
    return inferred


def _may_refuse(handler: HTTPRouteHandler) -> bool:
    """A role guard (on the handler or its controller), or the application's guard where platform
    administrators may not go.

    The services' own refusals (403) sit behind such guards: routes open to every signed-in user
    (their own token, reference data, the deadline calculator) refuse no one.
    """
    role_guarded = any(layer.guards for layer in handler.ownership_layers if not isinstance(layer, Litestar))
    return role_guarded or not handler.opt.get(PLATFORM_ADMINS_OPT)
