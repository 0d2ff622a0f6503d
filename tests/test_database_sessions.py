"""One session and one transaction per HTTP request; no pre-ping, yet a lost connection is a 503 once."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from litestar import Litestar
from sqlalchemy import event

from mla.database_roles import plain_dsn, role_of
from mla.settings import Settings
from tests.factories import World


@contextmanager
def counted(app: Litestar) -> Iterator[dict[str, int]]:
    """How many pool checkouts, BEGINs and COMMITs the app's engine makes meanwhile."""
    counts = {"checkout": 0, "begin": 0, "commit": 0}
    engine = app.state.engine.sync_engine

    def on(name: str) -> Any:
        def count(*_: Any) -> None:
            counts[name] += 1

        return count

    listeners = [
        (engine.pool, "checkout", on("checkout")),
        (engine, "begin", on("begin")),
        (engine, "commit", on("commit")),
    ]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        yield counts
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)


async def test_filing_authenticates_and_writes_in_one_connection_and_one_transaction(
    app: Litestar, world: World
) -> None:
    org = await world.organisation()
    case, target = await world.case(org), await world.counterparty()

    with counted(app) as counts:
        await world.request(org, case, target)

    assert counts == {"checkout": 1, "begin": 1, "commit": 1}


async def test_a_refused_token_still_uses_one_connection(app: Litestar, world: World) -> None:
    with counted(app) as counts:
        response = await world.client.get("/api/v1/requests", headers={"Authorization": "Bearer mla_not-a-token"})

    assert response.status_code == 401
    assert counts["checkout"] == 1 and counts["commit"] == 0


async def test_the_pool_keeps_the_configured_number_of_connections(app: Litestar, settings: Settings) -> None:
    assert app.state.engine.pool.size() == settings.database_pool_size


async def test_a_lost_connection_is_a_503_problem_and_the_next_request_succeeds(
    world: World, owner_database_url: str, database_url: str
) -> None:
    org = await world.organisation()
    assert (await world.client.get("/api/v1/requests", headers=org.headers())).status_code == 200

    # As an administrator (or a PostgreSQL restart) would: every connection of the app's role ends.
    owner = await asyncpg.connect(plain_dsn(owner_database_url))
    try:
        ended = await owner.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE usename = $1 AND datname = current_database()",
            role_of(database_url)[0],
        )
    finally:
        await owner.close()
    first = await world.client.get("/api/v1/requests", headers=org.headers())
    then = await world.client.get("/api/v1/requests", headers=org.headers())

    assert ended >= 1
    assert first.status_code in (200, 503)
    if first.status_code == 503:
        assert first.headers["content-type"].startswith("application/problem+json")
        assert first.json()["type"].endswith("/database-unavailable")
    assert then.status_code == 200
