"""PostgreSQL restarted under load: 503 problem details while it is down, recovery by itself, nothing lost."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest
from sqlalchemy import select

from mla.app import create_app, hold_resources
from mla.clock import FixedClock
from mla.counterparties import service as counterparties
from mla.counterparties.schemas import CounterpartyCreate
from mla.embedded import start_embedded_postgres
from mla.enums import CounterpartyKind, OrganisationKind, Role
from mla.migrate import upgrade
from mla.organisations import service as organisations
from mla.organisations.schemas import OrganisationCreate
from mla.reference_data import seed_reference_data
from mla.requests.models import Request
from mla.settings import Settings
from mla.users import service as users
from mla.users.schemas import UserCreate
from tests.factories import request_body


class OwnDatabase:
    """A PostgreSQL of this test's own, which it may stop and start again on the same data."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url, self._stop = start_embedded_postgres(folder)

    def stop(self) -> None:
        self._stop()

    def start(self) -> str:
        url, self._stop = start_embedded_postgres(self.folder)
        return url


@pytest.fixture
async def own_database(tmp_path: Path) -> AsyncIterator[OwnDatabase]:
    database = OwnDatabase(tmp_path)
    await asyncio.to_thread(upgrade, database.url)
    try:
        yield database
    finally:
        database.stop()


async def prosecutor_token(app, clock: FixedClock) -> str:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as session, session.begin():
        await seed_reference_data(session, clock)
        organisation = await organisations.create_organisation(
            session,
            clock,
            None,
            OrganisationCreate(
                name="Faults", kind=OrganisationKind.PROSECUTION_SERVICE, country="DE", timezone="Europe/Berlin"
            ),
        )
        user = await users.create_user(
            session,
            clock,
            None,
            UserCreate(email="faults@example.org", name="F", organisation_id=organisation.id, roles=[Role.PROSECUTOR]),
        )
        return await users.create_api_token(session, clock, None, user, "faults")


async def test_a_database_restart_under_load_loses_no_committed_request(
    own_database: OwnDatabase, settings: Settings, clock: FixedClock
) -> None:
    app = create_app(msgspec.structs.replace(settings, database_url=own_database.url), clock)
    async with (
        hold_resources(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        headers = {"Authorization": f"Bearer {await prosecutor_token(app, clock)}"}
        case = (
            await http.post(
                "/api/v1/cases",
                headers=headers,
                json={
                    "reference": "F-1",
                    "title": "Faults",
                    "offences": [{"description": "Fraud", "max_penalty_years": 5}],
                },
            )
        ).json()
        target = await counterparty(app, clock)
        accepted: list[str] = []
        statuses: list[int] = []
        problems: list[str] = []

        async def file_requests(stop: asyncio.Event) -> None:
            while not stop.is_set():
                response = await http.post(
                    "/api/v1/requests", headers=headers, json=request_body(case["id"], target, clock.now())
                )
                statuses.append(response.status_code)
                if response.status_code == 201:
                    accepted.append(response.json()["id"])
                else:
                    problems.append(response.headers.get("content-type", ""))
                await asyncio.sleep(0)

        stop = asyncio.Event()
        load = [asyncio.create_task(file_requests(stop)) for _ in range(4)]
        await until(lambda: len(accepted) >= 20)
        await asyncio.to_thread(own_database.stop)
        await until(lambda: statuses.count(503) >= 5)
        before_restart = len(accepted)
        assert await asyncio.to_thread(own_database.start) == own_database.url
        await until(lambda: len(accepted) >= before_restart + 20)
        stop.set()
        await asyncio.gather(*load)

        assert set(statuses) <= {201, 503}
        assert all(kind.startswith("application/problem+json") for kind in problems)
        async with app.state.sessionmaker() as session:
            stored = set(
                await session.scalars(select(Request.id).where(Request.id.in_([uuid.UUID(i) for i in accepted])))
            )
        assert len(stored) == len(accepted)


async def counterparty(app, clock: FixedClock) -> uuid.UUID:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as session, session.begin():
        data = CounterpartyCreate(kind=CounterpartyKind.PROVIDER, name="Faults provider", country="US")
        return (await counterparties.create_counterparty(session, clock, None, data)).id


async def until(condition, limit_seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Wait (bounded) for the load to reach a state; the load runs in other tasks meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_seconds
    while not condition():
        assert loop.time() < deadline, "the load did not reach the expected state in time"
        await asyncio.sleep(0.05)
