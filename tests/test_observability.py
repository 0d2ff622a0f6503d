"""Operability: a request id on every answer and log line, JSON logs without personal data, metrics."""

import json
import logging
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from mla.app import create_app
from mla.clock import FixedClock
from mla.enums import Role
from mla.errors import handle_internal_error
from mla.observability.logs import JsonFormatter, mask, request_id_var
from mla.settings import Settings
from tests.alerts.support import arrange_alert
from tests.conftest import METRICS_TOKEN
from tests.factories import World
from workers import jobs


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


SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def job_context(app: Litestar, clock: FixedClock) -> dict[str, Any]:
    state = app.state
    return {"sessionmaker": state.sessionmaker, "clock": clock, "redis": state.redis, "settings": state.settings}


def gauge(exposition: str, name: str, label: str) -> float:
    series = f"{name}{{{label}}} " if label else f"{name} "
    [line] = [line for line in exposition.splitlines() if line.startswith(series)]
    return float(line.rsplit(" ", 1)[1])


async def test_metrics_expose_latency_and_the_figures_the_worker_counted(
    app: Litestar, world: World, clock: FixedClock
) -> None:
    org = await world.organisation()
    await world.client.get("/api/v1/cases", headers=org.headers())
    await jobs.refresh_metrics(job_context(app, clock))

    response = await world.client.get("/metrics", headers=SCRAPER)

    assert response.status_code == 200
    assert 'mla_http_request_duration_seconds_count{method="GET",route="/api/v1/cases",status="200"}' in response.text
    assert 'mla_open_deadlines{bucket="overdue"}' in response.text
    assert 'mla_alert_deliveries{status="failed"}' in response.text
    assert gauge(response.text, "mla_metrics_refreshed_timestamp_seconds", "") == clock.now().timestamp()


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer not-the-metrics-token", f"Basic {METRICS_TOKEN}", "user"],
)
async def test_a_scrape_without_the_metrics_token_is_refused(world: World, authorization: str | None) -> None:
    org = await world.organisation()
    if authorization == "user":  # a user's own valid token does not open /metrics
        authorization = org.headers(Role.ADMIN)["Authorization"]
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await world.client.get("/metrics", headers=headers)

    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "mla_" not in response.text


async def test_without_a_metrics_token_setting_every_scrape_is_refused(settings: Settings) -> None:
    app = create_app(msgspec.structs.replace(settings, metrics_token=""))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mla.test") as client:
        for headers in ({}, {"Authorization": "Bearer "}, SCRAPER):
            assert (await client.get("/metrics", headers=headers)).status_code == 401


async def test_a_scrape_reads_no_table_and_shows_what_the_worker_last_counted(
    app: Litestar, world: World, clock: FixedClock
) -> None:
    ctx = job_context(app, clock)
    await jobs.refresh_metrics(ctx)
    before = gauge(
        (await world.client.get("/metrics", headers=SCRAPER)).text, "mla_open_deadlines", 'bucket="due_soon"'
    )
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    await arrange_alert(world.sessionmaker, clock, request["id"])  # an open deadline due now
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    try:
        stale = await world.client.get("/metrics", headers=SCRAPER)
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)
    counted = await jobs.refresh_metrics(ctx)
    fresh = await world.client.get("/metrics", headers=SCRAPER)

    assert statements == []
    assert gauge(stale.text, "mla_open_deadlines", 'bucket="due_soon"') == before
    assert counted["open_deadlines:due_soon"] == before + 1
    assert gauge(fresh.text, "mla_open_deadlines", 'bucket="due_soon"') == before + 1
    assert gauge(fresh.text, "mla_metrics_refreshed_timestamp_seconds", "") == clock.now().timestamp()


async def test_client_errors_are_not_logged_as_errors(world: World, caplog: pytest.LogCaptureFixture) -> None:
    org = await world.organisation()
    caplog.set_level(logging.INFO)

    await world.client.post("/api/v1/cases", content=b"{not json", headers=org.headers())
    await world.client.get(f"/api/v1/requests/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=org.headers())

    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


PERSON = "Jane Q. Suspect"
FAILING_STATEMENTS = {
    # The driver refuses the value and quotes it; SQLAlchemy would add "[parameters: (...)]".
    "driver": ["SELECT CAST(:value AS uuid)"],
    # PostgreSQL refuses the value and quotes it.
    "server": ["SELECT CAST(CAST(:value AS text) AS integer)"],
    # PostgreSQL's DETAIL line quotes the duplicate key.
    "unique": [
        "CREATE TEMPORARY TABLE suspects (name text UNIQUE)",
        "INSERT INTO suspects VALUES (:value)",
        "INSERT INTO suspects VALUES (:value)",
    ],
}


async def database_error(app: Litestar, statements: list[str]) -> DBAPIError:
    async with app.state.engine.connect() as connection:
        with pytest.raises(DBAPIError) as raised:
            for statement in statements:
                await connection.execute(text(statement), {"value": PERSON})
    return raised.value


@pytest.mark.parametrize("kind", FAILING_STATEMENTS)
async def test_a_database_error_is_logged_without_the_values_of_its_statement(
    app: Litestar, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    error = await database_error(app, FAILING_STATEMENTS[kind])
    # The driver's message or its DETAIL (asyncpg keeps it as `detail`) quotes the value.
    assert PERSON in str(error.orig) or PERSON in getattr(error.orig.__cause__, "detail", "")
    caplog.set_level(logging.INFO)

    handle_internal_error(None, error)  # type: ignore[arg-type] # how the API logs a 500
    logging.getLogger("arq.worker").exception("%6.2fs ! %s failed, %s: %s", 0.1, "job", type(error).__name__, error)

    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert len(lines) == 2
    for line in lines:
        assert PERSON not in line and "Jane" not in line
        assert "DBAPIError" in line or "IntegrityError" in line
    exception = json.loads(lines[0])["exception"]
    assert "[SQL: " in exception and "Traceback (most recent call last)" in exception
    if kind == "unique":
        assert "constraint suspects_name_key" in exception
