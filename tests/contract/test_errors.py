"""Errors a person can act on (issue 12): each names what is wrong and, where it can, what is allowed."""

import uuid
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from mla.app import create_app, hold_resources
from mla.clock import FixedClock
from mla.db import DatabaseUnreachable, create_engine
from mla.settings import Settings
from tests.factories import Org, World, request_body

REQUESTS = "/api/v1/requests"
PREVIEW = "/api/v1/deadlines/preview"
# Nothing listens on the discard port: every connection to it is refused.
UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:9/nowhere"


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status and problem["detail"]
    return problem


def fields_of(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


@pytest.fixture
async def org(world: World) -> Org:
    return await world.organisation()


async def post_request(world: World, org: Org, **changes: Any) -> httpx.Response:
    case = await world.case(org)
    body = request_body(case["id"], await world.counterparty(), world.clock.now(), **changes)
    return await world.client.post(REQUESTS, json=body, headers=org.headers())


# --- query parameters --------------------------------------------------------------------------


async def test_a_misspelt_filter_is_a_400_naming_it_not_the_whole_list(world: World, org: Org) -> None:
    response = await world.client.get(f"{REQUESTS}?case_id={uuid.uuid4()}", headers=org.headers())

    problem = problem_of(response, 400)
    assert problem["errors"] == [{"field": "case_id", "message": "Unknown query parameter", "source": "query"}]
    assert "case_id" in problem["detail"] and "case" in problem["detail"]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/cases", "/api/v1/instruments", "/api/v1/notifications", "/api/v1/auth/me", "/health/live"],
)
async def test_every_operation_refuses_a_query_parameter_it_does_not_declare(world: World, org: Org, path: str) -> None:
    response = await world.client.get(f"{path}?organisation_id={org.id}", headers=org.headers())

    assert fields_of(problem_of(response, 400)) == ["organisation_id"]


async def test_an_unknown_enum_value_in_the_query_lists_the_allowed_ones(world: World, org: Org) -> None:
    response = await world.client.get(f"{REQUESTS}?direction=sideways", headers=org.headers())

    [error] = problem_of(response, 422)["errors"]
    assert error == {
        "field": "direction",
        "message": "Invalid enum value 'sideways'; allowed values: outgoing, incoming",
        "source": "query",
    }


# --- bodies ------------------------------------------------------------------------------------


async def test_an_empty_body_says_a_json_body_is_required(world: World, org: Org) -> None:
    response = await world.client.post(
        "/api/v1/cases", content=b"", headers={**org.headers(), "content-type": "application/json"}
    )

    assert problem_of(response, 400)["detail"] == "A JSON body is required."


async def test_an_unknown_enum_value_in_the_body_lists_the_allowed_ones(world: World, org: Org) -> None:
    response = await post_request(world, org, identifiers=[{"kind": "fax", "value": "+49 30 1234567"}])

    [error] = problem_of(response, 422)["errors"]
    assert error["field"] == "identifiers[0].kind"
    assert error["message"].startswith("Invalid enum value 'fax'; allowed values: ")
    assert {"email", "phone", "ip"} <= set(error["message"].partition("allowed values: ")[2].split(", "))


async def test_every_missing_required_field_is_named_at_once(world: World, org: Org) -> None:
    response = await world.client.post("/api/v1/cases", json={"summary": "A summary"}, headers=org.headers())

    problem = problem_of(response, 422)
    assert fields_of(problem) == ["reference", "title", "offences"]
    assert all(error["source"] == "body" for error in problem["errors"])


async def test_a_number_sent_as_a_string_is_refused_like_any_other_wrong_type(world: World, org: Org) -> None:
    created = (await post_request(world, org)).json()

    response = await world.client.patch(
        f"{REQUESTS}/{created['id']}", json={"version": "1", "priority": 3}, headers=org.headers()
    )

    [error] = problem_of(response, 422)["errors"]
    assert error == {"field": "version", "message": "Expected `int`, got `str`", "source": "body"}


# --- the deadline calculator -------------------------------------------------------------------

PRESERVATION = {"instrument": "us-2703f", "type": "preservation", "action": "transmit", "start": "2026-03-01T10:00:00Z"}


async def test_the_calculator_refuses_an_action_that_does_not_exist(world: World, org: Org) -> None:
    response = await world.client.get(PREVIEW, params=PRESERVATION | {"action": "fly"}, headers=org.headers())

    [error] = problem_of(response, 422)["errors"]
    assert error["field"] == "action"
    assert "'fly'" in error["message"] and "transmit" in error["message"]


async def test_the_calculator_refuses_a_type_the_instrument_does_not_provide_for(world: World, org: Org) -> None:
    response = await world.client.get(PREVIEW, params=PRESERVATION | {"instrument": "mlat"}, headers=org.headers())

    [error] = problem_of(response, 422)["errors"]
    assert error["field"] == "type"
    assert error["message"] == "mlat does not provide for 'preservation'; it allows mla"


# --- answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/requests/export.csv", "/api/v1/stats/export.csv"])
async def test_csv_exports_name_their_charset_once(world: World, org: Org, path: str) -> None:
    response = await world.client.get(path, headers=org.headers(), params={})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"


async def test_a_time_sent_with_an_offset_is_answered_in_utc_as_it_is_stored(world: World, org: Org) -> None:
    response = await post_request(world, org, period_start="2026-06-01T10:00:00+01:00")

    assert response.status_code == 201, response.text
    assert response.json()["period_start"] == "2026-06-01T09:00:00Z"
    stored = await world.client.get(f"{REQUESTS}/{response.json()['id']}", headers=org.headers())
    assert stored.json()["period_start"] == response.json()["period_start"]


# --- the database ------------------------------------------------------------------------------


async def test_a_refused_database_connection_is_a_typed_error() -> None:
    engine = create_engine(UNREACHABLE_DATABASE, null_pool=True)
    try:
        with pytest.raises(DatabaseUnreachable):
            async with engine.connect():
                pass
    finally:
        await engine.dispose()


@pytest.fixture
async def app_without_database(settings: Settings, clock: FixedClock) -> Any:
    app: Litestar = create_app(msgspec.structs.replace(settings, database_url=UNREACHABLE_DATABASE), clock)
    async with hold_resources(app):
        yield app


async def test_an_unreachable_database_is_a_503_to_retry(app_without_database: Litestar, org: Org) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_without_database), base_url="http://t") as http:
        response = await http.get("/api/v1/cases", headers=org.headers())

    problem = problem_of(response, 503)
    assert problem["type"].endswith("/database-unavailable")
    assert response.headers["retry-after"] == "5"
