"""The OpenAPI document tells the truth: what each operation is for, and the problems it answers."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from mla.errors import PROBLEM_JSON

METHODS = ("get", "put", "post", "delete", "patch")
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def document(app: Litestar) -> dict[str, Any]:
    return app.openapi_schema.to_schema()


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def statuses(operation: dict[str, Any]) -> set[str]:
    return set(operation["responses"])


def test_every_operation_has_a_summary_and_a_description(document: dict[str, Any]) -> None:
    undocumented = [
        f"{method} {path}"
        for method, path, operation in operations(document)
        if not operation.get("summary", "").strip() or not operation.get("description", "").strip()
    ]

    assert len(list(operations(document))) > 60
    assert undocumented == []


def test_summaries_are_one_line_and_descriptions_do_not_repeat_them(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        assert "\n" not in operation["summary"], f"{method} {path}"
        assert not operation["description"].startswith(operation["summary"]), f"{method} {path}"


def test_every_error_is_a_problem_document(document: dict[str, Any]) -> None:
    """No `400 application/json {status_code, detail, extra}`: the API never sends that shape."""
    wrong = []
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400 or (path, status) == ("/health/ready", "503"):  # the probe's own body
                continue
            if response.get("content") != {PROBLEM_JSON: {"schema": PROBLEM_REF}}:
                wrong.append(f"{method} {path} {status}")

    assert wrong == []


def test_the_problem_schema_names_the_members_the_api_sends(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    field_problem = document["components"]["schemas"]["FieldProblem"]

    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "errors"}
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldProblem"}
    assert set(field_problem["required"]) == {"field", "message"}


def test_every_operation_documents_malformed_input_and_every_guarded_one_a_lost_database(
    document: dict[str, Any],
) -> None:
    for method, path, operation in operations(document):
        assert "400" in statuses(operation), f"{method} {path}"  # an unknown query parameter
        if operation.get("security") != []:
            assert {"401", "503"} <= statuses(operation), f"{method} {path}"


def test_public_routes_need_no_token_and_answer_no_401_for_one(document: dict[str, Any]) -> None:
    public = {path for _, path, operation in operations(document) if operation.get("security") == []}

    assert public == {"/health/live", "/health/ready", "/api/v1/auth/token"}
    assert document["security"] == [{"bearer": []}]
    assert "401" not in document["paths"]["/health/ready"]["get"]["responses"]


@pytest.mark.parametrize(
    ("method", "path", "expected", "absent"),
    [
        ("POST", "/api/v1/auth/token", {"401", "413", "415", "422", "429", "503"}, {"403"}),
        ("GET", "/api/v1/auth/me", {"401", "503"}, {"403", "404", "422"}),
        ("GET", "/api/v1/instruments", {"401"}, {"403", "404", "409"}),  # any signed-in user
        ("GET", "/api/v1/queue", {"401", "403", "422"}, {"404", "409", "413"}),
        ("GET", "/api/v1/requests/{request_id}", {"401", "403", "404", "422"}, {"409", "413", "415"}),
        ("PATCH", "/api/v1/requests/{request_id}", {"403", "404", "409", "413", "415", "422"}, set()),
        ("POST", "/api/v1/requests/{request_id}/actions/{action}", {"403", "404", "409", "413", "415", "422"}, set()),
        ("POST", "/api/v1/requests", {"401", "403", "413", "415", "422"}, {"404"}),
        ("GET", "/health/ready", {"503"}, {"401", "403"}),
        ("GET", "/health/live", set(), {"401", "403", "503"}),
    ],
)
def test_operations_document_the_problems_they_answer(
    document: dict[str, Any], method: str, path: str, expected: set[str], absent: set[str]
) -> None:
    documented = statuses(document["paths"][path][method.lower()])

    assert expected <= documented
    assert not absent & documented


def test_a_csv_export_is_documented_as_csv(document: dict[str, Any]) -> None:
    for path in ("/api/v1/requests/export.csv", "/api/v1/stats/export.csv"):
        assert set(document["paths"][path]["get"]["responses"]["200"]["content"]) == {"text/csv"}


async def test_the_served_document_is_the_rewritten_one(client: httpx.AsyncClient, document: dict[str, Any]) -> None:
    served = (await client.get("/schema/openapi.json")).json()

    assert served["paths"]["/api/v1/requests/{request_id}"]["get"]["responses"]["404"]["content"] == {
        PROBLEM_JSON: {"schema": PROBLEM_REF}
    }
    assert "Problem" in served["components"]["schemas"]
