"""Query plans (`EXPLAIN (ANALYZE, BUFFERS)`) of the alert scan and the queue, and statement counts per use case.

The queue's SQL comes from `mla.queue.repository` itself (the page and the counts queries);
the scan's claim query is `mla.alerts.repository.CLAIM`.
"""

import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Select, TextClause, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bench.database import BENCH_KEYRING
from bench.scenarios import request_body
from bench.seed import Draft
from bench.world import World
from mla.alerts import repository as alerts
from mla.checks.rules import CheckSettings
from mla.clock import SystemClock
from mla.db import create_engine, create_sessionmaker
from mla.enums import Role
from mla.queue import repository as queue
from mla.queue import service as queue_service
from mla.queue.schemas import QueueBucket
from mla.requests import service as requests
from mla.requests.schemas import RequestCreate
from mla.users import repository as users
from mla.users.credentials import token_digest
from mla.users.principal import Principal
from mla.workflow import service as workflow
from mla.workflow.schemas import ActionInput
from workers.jobs import SCAN_BATCH


def scan_query(now: datetime, batch: int = SCAN_BATCH) -> TextClause:
    """The claim query of `mla.alerts.scan.scan_due_alerts` (`mla.alerts.repository.CLAIM`), with its parameters."""
    return alerts.CLAIM.bindparams(**alerts.claim_parameters(now, batch))


def officer(authority_id: uuid.UUID, user_id: uuid.UUID) -> Principal:
    """The central authority officer the benchmark's queue is read as."""
    return Principal(user_id, authority_id, frozenset({Role.CENTRAL_AUTHORITY.value}), "officer@bench.mla")


def queue_page_query(authority_id: uuid.UUID, user_id: uuid.UUID, bucket: QueueBucket, now: datetime) -> Select[Any]:
    return queue.queue_page(officer(authority_id, user_id), bucket, now, None, 50).bound()


def queue_counts_query(authority_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> Select[Any]:
    """The query of `mla.queue.repository.bucket_counts`."""
    return queue.counts_query(officer(authority_id, user_id), now).bound()


async def explain(session: AsyncSession, query: Select[Any] | TextClause) -> str:
    """The plan PostgreSQL ran, with timings and buffers; run inside a transaction the caller rolls back."""
    connection = await session.connection()
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    parameters = tuple(compiled.params[name] for name in compiled.positiontup or ())
    result = await connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + compiled.string, parameters)
    return "\n".join(row[0] for row in result)


@contextmanager
def counting_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Record every SQL statement the engine sends while the block runs."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def count_statements(engine: AsyncEngine, use_case: Callable[[AsyncSession], Awaitable[Any]]) -> list[str]:
    """The statements one use case sends, in one transaction that is then rolled back."""
    with counting_statements(engine) as statements:
        async with create_sessionmaker(engine, BENCH_KEYRING)() as session:
            await use_case(session)
            await session.rollback()
    return statements


async def queue_plans(url: str, authority_id: uuid.UUID, officer_id: uuid.UUID, now: datetime) -> dict[str, str]:
    """The plans of one `GET /queue` per bucket (page with next deadlines, then counts) for one authority."""
    engine = create_engine(url, null_pool=True)
    plans = {}
    try:
        async with create_sessionmaker(engine, BENCH_KEYRING)() as session:
            for bucket in QueueBucket:
                page = queue_page_query(authority_id, officer_id, bucket, now)
                await session.execute(page)  # once to warm the cache, as the load did
                plans[f"queue page, bucket `{bucket.value}`"] = await explain(session, page)
            counts = queue_counts_query(authority_id, officer_id, now)
            plans["queue bucket counts (every page)"] = await explain(session, counts)
            await session.rollback()
    finally:
        await engine.dispose()
    return plans


async def use_case_statements(url: str, world: World, draft: Draft) -> dict[str, list[str]]:
    """The SQL each measured use case sends, counted through the services themselves and rolled back."""
    engine = create_engine(url)  # as the API's
    clock = SystemClock()
    service = next(s for s in world.services if s.id == draft.owner)
    creator = next(m for m in service.members if m.id == draft.created_by)
    prosecutor = Principal(creator.id, service.id, frozenset({Role.PROSECUTOR.value}), "bench")
    authority = world.authorities[service.authority]
    officer = Principal(authority.members[0].id, authority.id, frozenset({Role.CENTRAL_AUTHORITY.value}), "bench")
    body = request_body(service.cases[0], world.providers[0], clock.now())
    filing = msgspec.convert(body, RequestCreate)
    submit = ActionInput(version=draft.version)
    digest = token_digest(creator.token)
    use_cases = {
        "authentication (API token)": lambda s: users.principal_for_api_token(s, digest, clock.now()),
        "filing (create_request)": lambda s: requests.create_request(s, clock, prosecutor, filing),
        "submit (perform_action)": lambda s: workflow.perform_action(
            s, clock, prosecutor, draft.id, "submit", submit, None, CheckSettings(max_content_days=365)
        ),
        "queue, one bucket (list_queue)": lambda s: queue_service.list_queue(
            s, clock, officer, QueueBucket.OVERDUE, None, 50
        ),
    }
    try:
        return {name: await count_statements(engine, use_case) for name, use_case in use_cases.items()}
    finally:
        await engine.dispose()
