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
from mla.requests import repository as request_lists
from mla.requests import service as requests
from mla.requests.schemas import RequestCreate
from mla.users import repository as users
from mla.users.credentials import token_digest
from mla.users.principal import Principal
from mla.workflow import service as workflow
from mla.workflow.schemas import ActionInput
from workers.jobs import SCAN_BATCH

UseCase = Callable[[AsyncSession], Awaitable[Any]]


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
    # Expanded (IN lists as one parameter per value) from the statement's own bound values.
    expanded = query.compile(dialect=connection.dialect).construct_expanded_state()
    explain_sql = "EXPLAIN (ANALYZE, BUFFERS) " + expanded.statement
    result = await connection.exec_driver_sql(explain_sql, expanded.positional_parameters)
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


async def count_statements(
    engine: AsyncEngine, authenticate: UseCase, use_case: UseCase
) -> tuple[list[str], list[str]]:
    """The statements one HTTP request sends (authentication, then the use case), in one transaction
    that is then rolled back, as the API runs them: one session per request."""
    async with create_sessionmaker(engine, BENCH_KEYRING)() as session:
        with counting_statements(engine) as authentication:
            await authenticate(session)
        with counting_statements(engine) as handler:
            await use_case(session)
        await session.rollback()
    return authentication, handler


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


async def list_plans(url: str, service_id: uuid.UUID, prosecutor_id: uuid.UUID) -> dict[str, str]:
    """The plan of a first page of `GET /requests?limit=20`, as the busiest prosecution service's prosecutor."""
    viewer = Principal(prosecutor_id, service_id, frozenset({Role.PROSECUTOR.value}), "bench")
    query = request_lists.summary_page_query(viewer, request_lists.RequestFilters(), None, 20)
    engine = create_engine(url, null_pool=True)
    try:
        async with create_sessionmaker(engine, BENCH_KEYRING)() as session:
            await session.execute(query)  # once to warm the cache, as the load did
            plan = await explain(session, query)
            await session.rollback()
    finally:
        await engine.dispose()
    return {"request list, first page of 20 (busiest prosecution service)": plan}


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
    as_prosecutor = _token_check(creator.token, clock)
    as_officer = _token_check(authority.members[0].token, clock)
    use_cases: dict[str, tuple[UseCase, UseCase]] = {
        "filing (create_request)": (as_prosecutor, lambda s: requests.create_request(s, clock, prosecutor, filing)),
        "submit (perform_action)": (
            as_prosecutor,
            lambda s: workflow.perform_action(
                s, clock, prosecutor, draft.id, "submit", submit, None, CheckSettings(max_content_days=365)
            ),
        ),
        "queue, one bucket (list_queue)": (
            as_officer,
            lambda s: queue_service.list_queue(s, clock, officer, QueueBucket.OVERDUE, None, 50),
        ),
    }
    try:
        # Twice, keeping the second pass: a running server's caches (reference data) are warm.
        for _ in range(2):
            counted = {name: await count_statements(engine, *steps) for name, steps in use_cases.items()}
    finally:
        await engine.dispose()
    authentication = next(iter(counted.values()))[0]
    return {"authentication (API token)": authentication} | {name: handler for name, (_, handler) in counted.items()}


def _token_check(token: str, clock: SystemClock) -> UseCase:
    """What the API's authentication does with a bearer API token, in the request's session."""
    digest = token_digest(token)
    return lambda session: users.principal_for_api_token(session, digest, clock.now())
