"""Operability: a request id on every answer and log line, JSON logs without personal data, metrics."""

import json
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.observability.logs import JsonFormatter, mask, request_id_var
from tests.factories import World


async def test_every_answer_carries_a_request_id_and_honours_the_callers(world: World) -> None:
    org = await world.organisation()

    generated = await world.client.get("/api/v1/cases", headers=org.headers())
    echoed = await world.client.get("/api/v1/cases", headers=org.headers() | {"X-Request-ID": "trace-42"})
    refused = await world.client.get("/api/v1/cases", headers=org.headers() | {"X-Request-ID": "bad id\n"})

    assert len(generated.headers["x-request-id"]) == 32
    assert echoed.headers["x-request-id"] == "trace-42"
    assert refused.headers["x-request-id"] != "bad id\n"


async def test_access_lines_are_json_with_the_request_id(world: World, caplog: pytest.LogCaptureFixture) -> None:
    org = await world.organisation()
    caplog.set_level(logging.INFO, logger="mla.http")

    await world.client.get("/api/v1/cases", headers=org.headers() | {"X-Request-ID": "trace-7"})

    [record] = [r for r in caplog.records if r.name == "mla.http"]
    token = request_id_var.set("trace-7")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["route"] == "/api/v1/cases" and line["status"] == 200 and line["request_id"] == "trace-7"


def test_logs_never_show_e_mail_addresses_tokens_or_passwords() -> None:
    text = "login prosecutor@example.org with Bearer eyJhbGci.x.y and mla_abcdefghijklmnopqrstuvwx password=hunter2"

    masked = mask(text)

    for secret in ("prosecutor@example.org", "eyJhbGci", "mla_abcdefghijklmnopqrstuvwx", "hunter2"):
        assert secret not in masked


async def test_a_database_error_logged_with_its_traceback_does_not_show_the_querys_parameters(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Bound parameters carry personal data (identifiers, statements); SQLAlchemy prints them in its errors."""
    marker = "suspect-identifier-in-a-parameter"
    with pytest.raises(DBAPIError) as failure:
        async with sessionmaker() as session:
            await session.execute(text("SELECT length(CAST(:marker AS text)) / 0"), {"marker": marker})
    record = logging.LogRecord("mla.errors", logging.ERROR, __file__, 1, "unhandled", None, failure._excinfo)

    logged = JsonFormatter().format(record)

    assert "division by zero" in logged
    assert marker not in logged


async def test_metrics_expose_latency_deadlines_and_deliveries(world: World) -> None:
    org = await world.organisation()
    await world.client.get("/api/v1/cases", headers=org.headers())

    response = await world.client.get("/metrics")

    assert response.status_code == 200
    assert 'mla_http_request_duration_seconds_count{method="GET",route="/api/v1/cases",status="200"}' in response.text
    assert 'mla_open_deadlines{bucket="overdue"}' in response.text
    assert 'mla_alert_deliveries{status="failed"}' in response.text


async def test_client_errors_are_not_logged_as_errors(world: World, caplog: pytest.LogCaptureFixture) -> None:
    org = await world.organisation()
    caplog.set_level(logging.INFO)

    await world.client.post("/api/v1/cases", content=b"{not json", headers=org.headers())
    await world.client.get(f"/api/v1/requests/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=org.headers())

    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
