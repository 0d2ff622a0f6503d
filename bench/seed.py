"""Seeding the benchmark database: schema, reference data, the world, then N requests by COPY.

The bulk load runs in one process per core, each COPYing its slice in batches (requests, their
deadlines, their audit events). While it runs, the secondary indexes of those three tables are
dropped and foreign keys are not checked (`session_replication_role = replica`: the rows are
consistent by construction, and the triggers that keep the queue's counts do not fire); the indexes
are rebuilt afterwards, two at a time, the queue's counts recounted at the seed's moment, and the
tables vacuumed and analysed so the planner and the visibility map look like a live database's.
"""

import asyncio
import contextlib
import multiprocessing
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import text

from bench.database import BENCH_KEYRING
from bench.rows import AUDIT_COLUMNS, DEADLINE_COLUMNS, REQUEST_COLUMNS, PlannedRequests, chunks
from bench.world import World, build_world
from mla.audit import service as audit
from mla.clock import FixedClock
from mla.db import create_engine, create_sessionmaker
from mla.migrate import migrate
from mla.queue import repository as queue
from mla.reference_data import seed_reference_data

BATCH = 2_000
BULK_TABLES = ("requests", "deadlines", "audit_events")


@dataclass(frozen=True)
class SeedReport:
    requests: int
    deadlines_open: int
    in_scan_index: int
    due: int
    audit_events: int
    drafts: int
    seconds: float
    load_seconds: float
    index_seconds: float
    vacuum_seconds: float
    database_bytes: int


def migrate_and_seed_reference(url: str, runtime_url: str, now: datetime) -> None:
    migrate(url, runtime_url)

    async def reference() -> None:
        engine = create_engine(runtime_url, null_pool=True)
        try:
            async with create_sessionmaker(engine, BENCH_KEYRING)() as session, session.begin():
                await seed_reference_data(session, FixedClock(now))
        finally:
            await engine.dispose()

    asyncio.run(reference())


async def seed_world(url: str, now: datetime, requests: int, seed: int) -> World:
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            return await build_world(connection, now, requests, random.Random(seed))
    finally:
        await connection.close()


def seed_requests(url: str, world: World, now: datetime, total: int, due: int, seed: int) -> SeedReport:
    """COPY `total` requests with their deadlines and audit trails; exactly `due` deadlines are due at `now`."""
    started = time.perf_counter()
    indexes = asyncio.run(_drop_secondary_indexes(url))
    processes = max(1, min(os.cpu_count() or 1, 4))
    context = multiprocessing.get_context("spawn")
    done = context.Value("q", 0)
    bounds = [total * k // processes for k in range(processes + 1)]
    slices = [Slice(url, world, now, total, due, seed + k, bounds[k], bounds[k + 1]) for k in range(processes)]
    workers = [context.Process(target=_load_slice, args=(part, done)) for part in slices]
    for worker in workers:
        worker.start()
    _show_progress(workers, done, total)
    if any(worker.exitcode != 0 for worker in workers):
        raise SystemExit("bench: a seeding process failed (see above)")
    loaded = time.perf_counter()
    asyncio.run(_rebuild_indexes(url, indexes))
    asyncio.run(_count_queues(url, now))
    indexed = time.perf_counter()
    asyncio.run(_vacuum_and_finish(url, total))
    finished = time.perf_counter()
    counts = asyncio.run(_counts(url, now))
    return SeedReport(
        **counts,
        seconds=finished - started,
        load_seconds=loaded - started,
        index_seconds=indexed - loaded,
        vacuum_seconds=finished - indexed,
    )


@dataclass(frozen=True)
class Slice:
    """Requests number `start` to `stop` of a seed of `total`, for one seeding process."""

    url: str
    world: World
    now: datetime
    total: int
    due: int
    seed: int
    start: int
    stop: int


def _load_slice(part: Slice, done: Any) -> None:
    asyncio.run(_copy_slice(part, done))


async def _copy_slice(part: Slice, done: Any) -> None:
    planned = PlannedRequests(part.world, part.now, part.total, part.due, random.Random(part.seed))
    connection = await asyncpg.connect(part.url)
    try:
        # Foreign keys unchecked during the bulk load: every reference is built from rows just inserted.
        # Only a superuser may; anyone else loads with the checks, more slowly.
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await connection.execute("SET session_replication_role = replica")
        for batch in chunks(part.start, part.stop, BATCH):
            requests, deadlines, events = [], [], []
            for n in batch:
                request, clocks, trail = planned.build(n)
                requests.append(request)
                deadlines.extend(clocks)
                events.extend(trail)
            async with connection.transaction():
                await connection.copy_records_to_table("requests", records=requests, columns=REQUEST_COLUMNS)
                await connection.copy_records_to_table("deadlines", records=deadlines, columns=DEADLINE_COLUMNS)
                await connection.copy_records_to_table("audit_events", records=events, columns=AUDIT_COLUMNS)
            with done.get_lock():
                done.value += len(batch)
    finally:
        await connection.close()


def _show_progress(workers: list[Any], done: Any, total: int) -> None:
    started = time.perf_counter()
    while any(worker.is_alive() for worker in workers):
        time.sleep(0.5)
        _progress_line("seeding requests", done.value, total, started)
        if any(worker.exitcode not in (None, 0) for worker in workers):
            for worker in workers:
                worker.terminate()
    for worker in workers:
        worker.join()
    _progress_line("seeding requests", done.value, total, started)
    print(file=sys.stderr)


def _progress_line(label: str, done: int, total: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed else 0.0
    eta = (total - done) / rate if rate else 0.0
    width = 30
    filled = int(width * done / total) if total else width
    bar = "#" * filled + "-" * (width - filled)
    print(
        f"\r{label} [{bar}] {done:>9,}/{total:,} {100 * done / total:5.1f}%  {rate:8,.0f}/s  eta {eta:5.0f}s",
        end="",
        file=sys.stderr,
        flush=True,
    )


async def _drop_secondary_indexes(url: str) -> list[str]:
    """Drop the bulk tables' indexes that back no constraint; return their definitions."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            """
            SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
            FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
            WHERE t.relname = ANY($1::text[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY t.relname, 1
            """,
            list(BULK_TABLES),
        )
        for row in rows:
            await connection.execute(f"DROP INDEX {row['name']}")
        return [row["definition"] for row in rows]
    finally:
        await connection.close()


async def _rebuild_indexes(url: str, definitions: list[str]) -> None:
    """Recreate the dropped indexes, as many at once as there are cores (at most two)."""
    pending = list(definitions)
    done = 0
    started = time.perf_counter()

    async def builder() -> None:
        nonlocal done
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("SET maintenance_work_mem = '512MB'")
            while pending:
                await connection.execute(pending.pop())
                done += 1
                _progress_line("rebuilding indexes", done, len(definitions), started)
        finally:
            await connection.close()

    await asyncio.gather(*(builder() for _ in range(min(2, os.cpu_count() or 1))))
    print(file=sys.stderr)


async def _count_queues(url: str, now: datetime) -> None:
    """The queue's kept counts, which the replica-mode load did not maintain."""
    engine = create_engine(url, null_pool=True)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await queue.rebuild_counts(session, now)
    finally:
        await engine.dispose()


async def _vacuum_and_finish(url: str, total: int) -> None:
    connection = await asyncpg.connect(url)
    try:
        # Filing continues the human references after the seeded ones.
        await connection.execute("SELECT setval('request_reference_seq', $1)", total)
        print("vacuuming and analysing ...", file=sys.stderr, flush=True)
        for table in ("requests", "deadlines", "queue_counts"):
            await connection.execute(f"VACUUM (ANALYZE) {table}")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _counts(url: str, now: datetime) -> dict[str, int]:
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            """
            SELECT
              (SELECT count(*) FROM requests) AS requests,
              (SELECT count(*) FROM deadlines WHERE status = 'open') AS deadlines_open,
              (SELECT count(*) FROM deadlines
                WHERE status = 'open' AND paused_at IS NULL AND next_alert_at IS NOT NULL) AS in_scan_index,
              (SELECT count(*) FROM deadlines
                WHERE status = 'open' AND paused_at IS NULL AND next_alert_at <= $1) AS due,
              (SELECT count(*) FROM audit_events) AS audit_events,
              (SELECT count(*) FROM requests WHERE status = 'draft') AS drafts,
              pg_database_size(current_database()) AS database_bytes
            """,
            now,
        )
        return dict(row)
    finally:
        await connection.close()


async def verify_sample_chains(url: str, count: int = 5) -> list[audit.ChainVerdict]:
    """Recompute a few seeded requests' audit chains with the application's verifier."""
    engine = create_engine(url, null_pool=True)
    try:
        async with create_sessionmaker(engine, BENCH_KEYRING)() as session:
            sample = await session.execute(
                text("SELECT id FROM requests TABLESAMPLE SYSTEM (1) LIMIT :count"), {"count": count}
            )
            return [await audit.verify_chain(session, audit.request_chain(row.id)) for row in sample.all()]
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Draft:
    """A seeded outgoing draft: submitted by its creator (a confidential draft shows to no one else)."""

    id: uuid.UUID
    owner: uuid.UUID
    created_by: uuid.UUID
    version: int


async def drafts_to_submit(url: str) -> list[Draft]:
    """Every seeded outgoing draft."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT id, organisation_id, created_by, version FROM requests "
            "WHERE status = 'draft' AND direction = 'outgoing'"
        )
        return [Draft(row["id"], row["organisation_id"], row["created_by"], row["version"]) for row in rows]
    finally:
        await connection.close()
