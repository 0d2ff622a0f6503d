"""What an API operation accepts, checked before Litestar reads the request.

The OpenAPI document is the contract: a query parameter it does not declare for the operation is
a 400 naming it (a misspelt filter would otherwise be ignored and return everything), an enum
value outside the declared ones is a 422 listing them, and a body is JSON (415 otherwise), present
(400) and decoded strictly into the handler's Struct: `"version": "8"` is a 422 like any other
wrong type, every missing required field is named at once, and JSON that cannot be read is a 400.
Litestar then decodes the same body again, leniently, and finds nothing more to refuse.
"""

import functools
import re
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request

from mla.errors import MalformedRequest, Unprocessable, UnsupportedMediaType
from mla.fields import FieldError

QUERY = "query"
BODY = "body"

# msgspec's messages that name the field themselves, at the path of the object holding it.
_FIELD_IN_MESSAGE = re.compile(r"^Object (?:missing required|contains unknown) field `([^`]+)`")
# "<message> - at `$.path`", or "- at `key` in `$.path`" for a mapping's key.
_AT_PATH = re.compile(r"^(?P<message>.*?) - at (?P<key>`key` in )?`\$\.?(?P<path>.*)`$", re.DOTALL)
_PATH_SEGMENT = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says one operation accepts."""

    query_parameters: dict[str, dict[str, Any]]  # name → schema
    body: dict[str, Any] | None  # the JSON body's schema, if the operation takes one
    body_required: bool


class ApiContract:
    """The operations of an OpenAPI document (as a dict), by path template and method."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
        self._operations = {
            (path, method.upper()): _operation(declared)
            for path, item in document.get("paths", {}).items()
            for method, declared in item.items()
            if isinstance(declared, dict) and "responses" in declared
        }

    def operation(self, path_template: str, method: str) -> Operation | None:
        return self._operations.get((path_template, method))

    def allowed_values(self, schema: dict[str, Any] | None) -> list[str]:
        """The enum values a schema (or its array items, or a member of its union) allows; [] for any."""
        if schema is None:
            return []
        schema = self._resolved(schema)
        if "enum" in schema:
            return [str(value) for value in schema["enum"]]
        members = [*schema.get("oneOf", []), *schema.get("anyOf", [])]
        if "items" in schema:
            members.append(schema["items"])
        return [value for member in members for value in self.allowed_values(member)]

    def schema_at(self, schema: dict[str, Any], path: str) -> dict[str, Any] | None:
        """The schema of the value at a msgspec path (`identifiers[0].kind`) inside `schema`."""
        for name, index in _PATH_SEGMENT.findall("." + path if path else ""):
            found = None
            for candidate in self._alternatives(schema):
                if name and name in candidate.get("properties", {}):
                    found = candidate["properties"][name]
                elif index and "items" in candidate:
                    found = candidate["items"]
            if found is None:
                return None
            schema = found
        return schema

    def _alternatives(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        schema = self._resolved(schema)
        members = [*schema.get("oneOf", []), *schema.get("anyOf", [])]
        return [schema, *(self._resolved(member) for member in members)]

    def _resolved(self, schema: dict[str, Any]) -> dict[str, Any]:
        reference = schema.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/components/schemas/"):
            return self._schemas.get(reference.removeprefix("#/components/schemas/"), {})
        return schema


def _operation(declared: dict[str, Any]) -> Operation:
    parameters = {p["name"]: p.get("schema", {}) for p in declared.get("parameters", []) if p.get("in") == QUERY}
    body = declared.get("requestBody")
    json_body = body.get("content", {}).get("application/json") if body else None
    return Operation(
        query_parameters=parameters,
        body=None if json_body is None else json_body.get("schema", {}),
        body_required=bool(body and body.get("required")),
    )


async def check_api_input(request: Request[Any, Any, Any]) -> None:
    """Litestar `before_request` hook: refuse what the operation does not accept (400, 415, 422).

    Routes the OpenAPI document leaves out (the desk's pages, the docs) are not checked here.
    """
    contract: ApiContract = request.app.state.api_contract
    operation = contract.operation(request.scope["path_template"], request.method)
    if operation is None:
        return
    refuse_unknown_parameters(request, operation)
    refuse_unknown_enum_values(request, operation, contract)
    if operation.body is not None:
        await check_json_body(request, operation, contract)


def refuse_unknown_parameters(request: Request[Any, Any, Any], operation: Operation) -> None:
    unknown = sorted(set(request.query_params) - operation.query_parameters.keys())
    if not unknown:
        return
    accepted = ", ".join(sorted(operation.query_parameters)) or "none"
    raise MalformedRequest(
        f"Unknown query parameter {', '.join(unknown)}: this operation accepts {accepted}.",
        errors=[{"field": name, "message": "Unknown query parameter", "source": QUERY} for name in unknown],
    )


def refuse_unknown_enum_values(request: Request[Any, Any, Any], operation: Operation, contract: ApiContract) -> None:
    errors = []
    for name, schema in operation.query_parameters.items():
        allowed = contract.allowed_values(schema)
        for value in request.query_params.getall(name, []) if allowed else []:
            if value not in allowed:
                errors.append({"field": name, "message": enum_message(value, allowed), "source": QUERY})
    if errors:
        raise Unprocessable(errors[0]["message"], errors=errors)


def enum_message(value: str, allowed: list[str]) -> str:
    return f"Invalid enum value {value!r}; allowed values: {', '.join(allowed)}"  # msgspec's words, and the values


async def check_json_body(request: Request[Any, Any, Any], operation: Operation, contract: ApiContract) -> None:
    """Refuse a body that is not declared as JSON (415), absent (400), unreadable (400) or invalid (422)."""
    media_type = request.headers.get("content-type", "application/json").partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(f"Send the body as JSON with 'Content-Type: application/json', not {media_type!r}.")
    body = await request.body()
    if not body.strip():
        if operation.body_required:
            raise MalformedRequest("A JSON body is required.")
        return
    value = decode_json(body)
    data_field = request.route_handler.parsed_data_field
    if data_field is None:
        return
    data_type = data_field.annotation
    refuse_missing_fields(value, data_type)
    try:
        msgspec.convert(value, data_type, strict=True)
    except msgspec.ValidationError as error:
        allowed = contract.allowed_values(contract.schema_at(operation.body or {}, error_path(error)))
        problem = body_error(error, allowed)
        raise Unprocessable(problem["message"], errors=[problem]) from None


def decode_json(body: bytes) -> Any:
    """The body as Python values; JSON that cannot be read at all is a 400."""
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        raise MalformedRequest(f"The body is not valid JSON: {error}.") from None
    except UnicodeDecodeError:
        raise MalformedRequest("The body is not valid UTF-8.") from None
    except RecursionError:
        raise MalformedRequest("The JSON is nested too deeply.") from None


def refuse_missing_fields(value: Any, data_type: Any) -> None:
    """Name every required field the body's object lacks, not only the first msgspec meets."""
    if not (isinstance(value, dict) and isinstance(data_type, type) and issubclass(data_type, msgspec.Struct)):
        return
    missing = [name for name in required_fields(data_type) if name not in value]
    if missing:
        errors = [
            {"field": name, "message": f"Object missing required field `{name}`", "source": BODY} for name in missing
        ]
        names = ", ".join(f"`{name}`" for name in missing)
        raise Unprocessable(f"Object missing required fields {names}", errors=errors)


@functools.cache
def required_fields(struct_type: type[msgspec.Struct]) -> tuple[str, ...]:
    """The JSON names of the struct's required fields (worked out once per type: it reads its annotations)."""
    return tuple(field.encode_name for field in msgspec.structs.fields(struct_type) if field.required)


def error_path(error: msgspec.ValidationError) -> str:
    """`identifiers[0].kind` for msgspec's "... - at `$.identifiers[0].kind`"; "" for the body itself."""
    located = _AT_PATH.match(str(error))
    return located["path"] if located else ""


def body_error(error: msgspec.ValidationError, allowed: list[str]) -> dict[str, str]:
    """One entry of a 422's `errors`: the field at fault and what is wrong with it (with the allowed values)."""
    located = _AT_PATH.match(str(error))
    message, path = (located["message"], located["path"]) if located else (str(error), "")
    if located and located["key"]:
        message = f"{message} (a key of the object)"
    # msgspec raises its error `from` the Struct's own refusal, which knows the field it is about.
    refused = error.__cause__
    if named := _FIELD_IN_MESSAGE.match(message):
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    elif isinstance(refused, FieldError):
        path = f"{path}.{refused.field}" if path else refused.field
    elif message.startswith("Invalid enum value") and allowed:
        message = f"{message}; allowed values: {', '.join(allowed)}"
    return {"field": path, "message": message, "source": BODY}
