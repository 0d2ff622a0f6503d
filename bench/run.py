"""`uv run python -m bench.run`: seed, measure, print and write bench/RESULTS.md; drop the database unless --keep.

Order: create and seed `mla_bench`; time the deadline scan, then the alert latency with a worker
running (before any HTTP load, each restoring the database);
count the SQL of each use case; start the API processes; run each load (HTTP ceiling, filing,
database floor, submit, submit's database floor, the five queue buckets, the desk's queue page); capture
the queue's plans; report.
"""

import argparse
import asyncio
import os
import random
import shlex
import sys
import time
from datetime import UTC, datetime

import asyncpg

from bench import compare, database, load, plans, report, scenarios, seed
from bench.latency import measure_latency
from bench.load import LoadResult, Scenario
from bench.machine import describe
from bench.scan import measure_scan
from bench.server import Servers, start_servers
from bench.world import World
from mla.queue.schemas import QueueBucket

LIST_CONNECTIONS = 4  # the authenticated list measured with and without log-in floods
FLOOD_CONNECTIONS = 8  # clients flooding POST /auth/token beside it
SUBMIT_FLOOR_DRAFTS = 2_000  # drafts the submit's floor moves back and forth (the submit line gets the rest)
POSTGRES_SETTINGS = (
    "shared_buffers", "work_mem", "max_connections", "synchronous_commit", "fsync", "autovacuum", "jit",
)  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--requests", type=int, default=1_000_000, help="requests to seed (default 1,000,000)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections in flight (default 32)")
    parser.add_argument("--duration", type=float, default=20, help="seconds measured per load (default 20)")
    parser.add_argument("--servers", type=int, default=2, help="`mla serve` processes (default 2: one per core)")
    parser.add_argument("--load-processes", type=int, default=2, help="load-generator processes (default 2)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the generated data")
    parser.add_argument("--keep", action="store_true", help="keep the mla_bench database afterwards")
    args = parser.parse_args(argv)
    if args.requests < 1_000:
        parser.error("--requests must be at least 1,000")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    command = "uv run python -m bench.run" + (" " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "")
    now = datetime.now(UTC).replace(microsecond=0)  # the scan instant; seeded clocks are relative to it
    warmup = min(3.0, max(1.0, args.duration * 0.15))
    url = database.bench_url()  # the owner: migrations and the bulk seed
    runtime_url = database.runtime_url()  # what the API, the worker and the floor connect as
    redis_url = os.environ.get("MLA_REDIS_URL") or "redis://127.0.0.1:6379/0"
    print(f"bench: database {database.BENCH_DATABASE} on {database.server_url()}", file=sys.stderr)
    database.create_database()
    try:
        started = time.perf_counter()
        seed.migrate_and_seed_reference(url, runtime_url, now)
        world = asyncio.run(seed.seed_world(url, now, args.requests, args.seed))
        seeded = seed.seed_requests(url, world, now, args.requests, args.requests // 100, args.seed)
        seed_seconds = time.perf_counter() - started
        _say(f"seeded in {seed_seconds:.0f} s: {seeded}")
        verdicts = asyncio.run(seed.verify_sample_chains(runtime_url))
        if not all(v.valid for v in verdicts):
            raise SystemExit(f"bench: a seeded audit chain does not verify: {verdicts}")
        _say(f"{len(verdicts)} sampled audit chains verify")

        _say(f"deadline scan at {now.isoformat()} ...")
        scan = asyncio.run(measure_scan(runtime_url, redis_url, now))
        _say(f"scan: {scan.with_due.due:,} due in {scan.with_due.seconds:.2f} s; none due in "
             f"{1000 * scan.none_due.seconds:.1f} ms")  # fmt: skip
        _say("alert latency: a worker running, the due alerts falling due at once ...")
        latency = asyncio.run(measure_latency(url, runtime_url, redis_url, now))
        _say(report.latency_line(latency))
        drafts = asyncio.run(seed.drafts_to_submit(url))
        random.Random(args.seed).shuffle(drafts)
        statements = asyncio.run(plans.use_case_statements(runtime_url, world, drafts.pop()))

        machine = describe(*asyncio.run(_postgres_facts(url)))
        servers = start_servers(args.servers, runtime_url, redis_url)
        try:
            loads = _run_loads(args, world, drafts, servers, runtime_url, warmup)
        finally:
            servers.stop()
        biggest = world.authorities[0]  # the heaviest-weighted authority: the longest queue
        queue_plans = asyncio.run(plans.queue_plans(url, biggest.id, biggest.members[0].id, datetime.now(UTC)))
        busiest_service = max(world.services, key=lambda service: service.weight)
        list_plans = asyncio.run(plans.list_plans(url, busiest_service.id, busiest_service.members[0].id))

        run = report.Run(
            machine=machine,
            setup=report.Setup(
                command=command,
                requests=args.requests,
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=warmup,
                servers=args.servers,
                load_processes=args.load_processes,
                seed_seconds=seed_seconds,
                organisations=f"{len(world.authorities)} central authorities and {len(world.services)} "
                "prosecution services reporting to them (volume per authority ∝ 1/√rank)",
            ),
            seed=seeded,
            loads=loads,
            scan=scan,
            latency=latency,
            statements=statements,
            queue_plans=queue_plans,
            list_plans=list_plans,
        )
        report.print_summary(run)
        previous = report.RESULTS.read_text() if report.RESULTS.exists() else ""
        report.write_results(run)
        compare.add_to(report.RESULTS, previous)
        _say(f"wrote {report.RESULTS}")
    finally:
        if args.keep:
            _say(f"kept database {database.BENCH_DATABASE}")
        else:
            database.drop_database()


def _run_loads(
    args: argparse.Namespace,
    world: World,
    drafts: list[seed.Draft],
    servers: Servers,
    url: str,
    warmup: float,
) -> dict[str, LoadResult]:
    ports, pids = servers.ports, servers.pids
    rng = random.Random(args.seed)
    processes = args.load_processes
    filing_calls = scenarios.filing_calls(world, datetime.now(UTC), rng)
    floor_drafts = [draft.id for draft in drafts[: min(SUBMIT_FLOOR_DRAFTS, len(drafts) // 4)]]
    submit_calls = scenarios.submit_calls(world, drafts[len(floor_drafts) :])
    concurrency, duration = args.concurrency, args.duration
    ceiling = [scenarios.HttpCall("GET", "/health/live", b"")]
    # (name, one scenario per load process, connections, seconds measured)
    plan: list[tuple[str, list[Scenario], int, float]] = [
        ("ceiling", [scenarios.HttpCalls("ceiling", ports, ceiling, 200, seed=k) for k in range(processes)],
         concurrency, duration),
        ("filing", [scenarios.HttpCalls("filing", ports, filing_calls, 201, seed=k) for k in range(processes)],
         concurrency, duration),
        ("floor", [scenarios.DatabaseFloor("floor", url, scenarios.floor_owners(world), world.providers, seed=k)
                   for k in range(processes)], concurrency, duration),
        ("submit", [scenarios.HttpCalls("submit", ports, submit_calls[k::processes], 200, consume=True, seed=k)
                    for k in range(processes)], concurrency, duration),
        ("submit floor", [scenarios.SubmitFloor("submit floor", url, floor_drafts[k::processes], seed=k)
                          for k in range(processes)], concurrency, duration),
    ]  # fmt: skip
    for bucket in QueueBucket:
        calls = scenarios.queue_calls(world, bucket.value)
        name = f"queue:{bucket.value}"
        loaded = [scenarios.HttpCalls(name, ports, calls, 200, seed=k) for k in range(processes)]
        plan.append((name, loaded, concurrency, duration))
    for bucket in QueueBucket:  # one connection: the latency without queueing behind other requests
        calls = scenarios.queue_calls(world, bucket.value)
        name = f"queue:{bucket.value}:alone"
        plan.append((name, [scenarios.HttpCalls(name, ports, calls, 200)], 1, max(1.0, duration / 2)))
    # The desk's queue page for the busiest authority, alone: its server time (issue 13: < 100 ms).
    desk = scenarios.desk_queue_calls(world, servers.secret_key)
    plan.append(("desk:queue:alone", [scenarios.HttpCalls("desk queue", ports, desk, 200)], 1, max(1.0, duration / 2)))
    results = {}
    for name, workers, connections, seconds in plan:
        results[name] = _measure(name, workers, connections, seconds, warmup, pids, url)
    # The authenticated list alone, then beside log-in floods the measured connections take no part in.
    lists = scenarios.list_calls(world)
    floods = [
        ("list", None),
        ("list:spray", scenarios.HttpCalls("login spray", ports, scenarios.login_spray_calls(rng), 401)),
        ("list:guess", scenarios.HttpCalls("login guess", ports, scenarios.login_guess_calls(rng), 429)),
    ]
    for name, flood in floods:
        workers = [scenarios.HttpCalls(name, ports, lists, 200, seed=k) for k in range(processes)]
        beside = None if flood is None else (flood, FLOOD_CONNECTIONS)
        results[name] = _measure(name, workers, LIST_CONNECTIONS, duration, warmup, pids, url, beside)
    return results


def _measure(
    name: str,
    workers: list[Scenario],
    connections: int,
    seconds: float,
    warmup: float,
    pids: list[int],
    url: str,
    beside: tuple[Scenario, int] | None = None,
) -> LoadResult:
    _say(f"load: {name}, {connections} connections, {warmup:.0f} s warm-up + {seconds:.0f} s ...")
    result = load.run_load(
        workers,
        concurrency=connections,
        duration=seconds,
        warmup=warmup,
        server_pids=pids,
        database_url=url,
        beside=beside,
    )
    _say(f"  {result.throughput:,.0f}/s  p50 {result.p50:.1f} ms  p99 {result.p99:.1f} ms  errors {result.errors}"
         + (f"  e.g. {result.error_sample}" if result.error_sample else ""))  # fmt: skip
    if (background := result.background) is not None:
        _say(f"  beside it, {background.name}: {background.rate:,.1f} answers/s, {background.expected:,} of "
             f"{background.answers:,} as expected")  # fmt: skip
    return result


async def _postgres_facts(url: str) -> tuple[str, dict[str, str]]:
    connection = await asyncpg.connect(url)
    try:
        version = await connection.fetchval("SHOW server_version")
        rows = await connection.fetch(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1::text[])", list(POSTGRES_SETTINGS)
        )
        return version, {r["name"]: f"{r['setting']}{'×' + r['unit'] if r['unit'] else ''}" for r in rows}
    finally:
        await connection.close()


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
