"""The figures: a table on stdout, the aims checked, and `bench/RESULTS.md` with the machine and the plans."""

from dataclasses import dataclass
from pathlib import Path

from bench.latency import LatencyRun
from bench.load import LoadResult
from bench.machine import Machine
from bench.scan import ScanResult
from bench.seed import SeedReport
from mla.db import POOL_OVERFLOW
from mla.settings import Settings
from workers.jobs import SCAN_BATCH

API_POOL = Settings().database_pool_size  # `mla serve`'s default, which the benchmark's servers run with

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
QUEUE_P99_AIM_MS = 50.0
DESK_QUEUE_AIM_MS = 100.0  # issue 13: the desk's queue page, busiest authority, server time
SCAN_AIM_SECONDS = 2.0
SCAN_JOB_AIM_SECONDS = 4.0  # deciding and relaying to Redis
SCAN_IDLE_AIM_MS = 10.0  # nothing due
ALERT_LATENCY_AIM_SECONDS = 10.0  # p99, deadline due -> webhook received, worker as deployed
FILING_AIM_RATIO = 0.5
SUBMIT_AIM_RATIO = 0.5
FLOOD_AIM_RATIO = 2.0  # the list's p99 beside a log-in flood, against its p99 alone
FLOORS = ("floor", "submit floor")  # raw asyncpg, no API process


@dataclass
class Setup:
    command: str
    requests: int
    concurrency: int
    duration: float
    warmup: float
    servers: int
    load_processes: int
    seed_seconds: float
    organisations: str  # e.g. "40 central authorities and 275 prosecution services"


@dataclass
class Run:
    machine: Machine
    setup: Setup
    seed: SeedReport
    loads: dict[str, LoadResult]  # "ceiling", "filing", "floor", "submit", "submit floor", "queue:<bucket>"
    scan: ScanResult
    latency: LatencyRun
    statements: dict[str, list[str]]  # use case -> the SQL statements it sends
    queue_plans: dict[str, str]
    list_plans: dict[str, str]


def ratios(run: Run) -> dict[str, float]:
    filing = run.loads["filing"].throughput
    floor, ceiling = run.loads["floor"].throughput, run.loads["ceiling"].throughput
    return {
        "filing / database floor": filing / floor,
        "filing / HTTP ceiling": filing / ceiling,
        "filing / min(floor, ceiling)": filing / min(floor, ceiling),
        "submit / submit's floor": run.loads["submit"].throughput / run.loads["submit floor"].throughput,
    }


def figures_table(run: Run) -> list[str]:
    """Markdown rows: one per load, with throughput, latency and who used the two cores."""
    lines = [
        "| measurement | connections | throughput (/s) | p50 (ms) | p99 (ms) | errors | API CPU per request (ms) "
        "| CPU used, in cores: API / PostgreSQL / load generator / other | PostgreSQL sessions opened |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    labels = {
        "filing": "filing `POST /api/v1/requests`",
        "submit": "submit `POST /api/v1/requests/{id}/actions/submit`",
        "floor": "database floor: the filing's writes via raw asyncpg, no HTTP",
        "submit floor": "submit's database floor: the submit's writes via raw asyncpg, no HTTP",
        "ceiling": "HTTP ceiling: `GET /health/live` (constant JSON), same servers",
        "desk:queue:alone": "desk queue page `GET /desk/queue` (HTML), busiest authority, alone",
    }
    for key, result in run.loads.items():
        label = labels.get(key) or _list_label(key, result) or f"queue `GET /api/v1/queue?bucket={key.split(':')[1]}`"
        lines.append(
            f"| {label} | {result.concurrency} | {result.throughput:,.0f} | {result.p50:.1f} | {result.p99:.1f} | "
            f"{result.errors}{' (drafts ran out)' if result.exhausted else ''} | "
            f"{'—' if key in FLOORS else format(_per_request_ms(result, 'server'), '.2f')} | {_cpu(result)} | "
            f"{_sessions_opened(result)} |"
        )
    return lines


LIST = "authenticated list `GET /api/v1/requests?limit=20`"
FLOODS = {
    "list:spray": "spraying `POST /auth/token`: made-up accounts, one address each, every attempt an argon2 "
    "verification",
    "list:guess": "guessing one account's password from one address (429 past the limit, no hash)",
}


def _list_label(key: str, result: LoadResult) -> str | None:
    if key == "list":
        return f"{LIST}, alone"
    flood = result.background
    if key not in FLOODS or flood is None:
        return None
    return (
        f"{LIST}, beside {flood.connections} clients {FLOODS[key]}; the flood got {flood.rate:,.1f} answers/s, "
        f"{flood.expected:,} of {flood.answers:,} as expected"
    )


def _cpu(result: LoadResult) -> str:
    if result.cpu is None:
        return ""
    seconds = result.seconds
    cpu = result.cpu
    other = max(0.0, cpu.busy - cpu.server - cpu.postgres - result.client_cpu_seconds)
    parts = (cpu.server, cpu.postgres, result.client_cpu_seconds, other)
    return " / ".join(f"{part / seconds:.2f}" for part in parts)


def _sessions_opened(result: LoadResult) -> str:
    # The sampler's own session of the first sample is counted by the second one.
    return "" if result.cpu is None else f"{max(0, result.cpu.sessions - 1):,}"


def aims(run: Run) -> list[tuple[str, str, bool]]:
    """(aim, measured, met) for each aim of the issue."""
    rows = []
    for key, result in run.loads.items():
        if key.startswith("queue:"):
            bucket = key.split(":")[1]
            aim = f"queue `{bucket}` p99 < {QUEUE_P99_AIM_MS:.0f} ms at {result.concurrency} connection" + (
                "s" if result.concurrency > 1 else ""
            )
            rows.append((aim, f"{result.p99:.1f} ms", result.p99 < QUEUE_P99_AIM_MS))
    if (desk := run.loads.get("desk:queue:alone")) is not None:
        aim = f"desk queue page p99 < {DESK_QUEUE_AIM_MS:.0f} ms at 1 connection (busiest authority)"
        rows.append((aim, f"{desk.p99:.1f} ms", desk.p99 < DESK_QUEUE_AIM_MS))
    scan = run.scan.with_due
    rows.append((f"scan of {scan.due:,} due < {SCAN_AIM_SECONDS:.0f} s", f"{scan.decide_seconds:.2f} s",
                 scan.decide_seconds < SCAN_AIM_SECONDS))  # fmt: skip
    rows.append((f"scan job of {scan.due:,} due, with the relay, < {SCAN_JOB_AIM_SECONDS:.0f} s",
                 f"{scan.seconds:.2f} s", scan.seconds < SCAN_JOB_AIM_SECONDS))  # fmt: skip
    idle_ms = 1000 * run.scan.none_due.seconds
    rows.append((f"scan with nothing due < {SCAN_IDLE_AIM_MS:.0f} ms", f"{idle_ms:.1f} ms", idle_ms < SCAN_IDLE_AIM_MS))
    latency = run.latency
    rows.append((f"alert latency p99 < {ALERT_LATENCY_AIM_SECONDS:.0f} s, {latency.due:,} due at once",
                 f"{latency.p99:.1f} s", latency.p99 < ALERT_LATENCY_AIM_SECONDS))  # fmt: skip
    rows.extend(_flood_aims(run))
    ratio = ratios(run)["filing / min(floor, ceiling)"]
    rows.append(("filing > ½ × min(database floor, HTTP ceiling)", f"{ratio:.2f} ×", ratio > FILING_AIM_RATIO))
    ratio = ratios(run)["submit / submit's floor"]
    rows.append(("submit ≥ ½ × the submit's database floor", f"{ratio:.2f} ×", ratio >= SUBMIT_AIM_RATIO))
    return rows


def _flood_aims(run: Run) -> list[tuple[str, str, bool]]:
    """The authenticated list's p99 beside each log-in flood, against its p99 alone."""
    alone = run.loads.get("list")
    rows = []
    for key, flood in (("list:spray", "a spray of wrong passwords"), ("list:guess", "one account guessed")):
        beside = run.loads.get(key)
        if alone is not None and beside is not None:
            ratio = beside.p99 / alone.p99
            aim = f"list p99 beside {flood} < {FLOOD_AIM_RATIO:.0f} × alone"
            rows.append((aim, f"{ratio:.1f} ×", ratio < FLOOD_AIM_RATIO))
    return rows


def findings(run: Run) -> list[str]:
    """What the figures say, worked out from them (each a Markdown bullet)."""
    out = []
    scan, seed = run.scan.with_due, run.seed
    if scan.due:
        per_deadline_ms = 1000 * scan.decide_seconds / scan.due
        python_seconds = scan.decide_seconds - scan.database_seconds
        verdict = "meets" if scan.decide_seconds < SCAN_AIM_SECONDS else "misses"
        out.append(
            f"- **Deadline scan** ({verdict} the aim). Finding what is due is cheap: the partial index "
            f"`ix_deadlines_due_alerts` hands over each batch of {SCAN_BATCH:,} in milliseconds, and with nothing "
            f"due the scan takes {1000 * run.scan.none_due.decide_seconds:.1f} ms at {seed.in_scan_index:,} "
            f"scheduled deadlines (plans below): the cost follows what is due, not the table. Deciding "
            f"{scan.due:,} took {scan.decide_seconds:.2f} s ({per_deadline_ms:.2f} ms a deadline) in "
            f"{scan.batches} batch(es) of "
            f"{scan.statements / max(scan.batches, 1):.0f} statements: {scan.database_seconds:.2f} s waiting on "
            f"PostgreSQL, {python_seconds:.2f} s in Python (the texts of each alert, rows to and from the driver). "
            f"The relay that then publishes the {scan.totals.get('published', 0):,} deliveries to Redis brings "
            f"the whole job to {scan.seconds:.2f} s."
        )
    filing, floor, ceiling = run.loads["filing"], run.loads["floor"], run.loads["ceiling"]
    filing_statements = len(run.statements.get("filing (create_request)", []))
    auth_statements = len(run.statements.get("authentication (API token)", []))
    out.append(
        f"- **Filing.** {filing.throughput:,.0f}/s against a database floor of {floor.throughput:,.0f}/s and an "
        f"HTTP ceiling of {ceiling.throughput:,.0f}/s. A filing sends {auth_statements} statement(s) to "
        f"authenticate and {filing_statements} to file, with BEGIN and COMMIT "
        f"{filing_statements + auth_statements + 2} round trips, where the floor needs 7 (BEGIN, 5 statements, "
        "COMMIT). Per request the API process spent "
        f"{_per_request_ms(filing, 'server'):.2f} ms of CPU on filing against "
        f"{_per_request_ms(ceiling, 'server'):.2f} ms on the constant endpoint, and PostgreSQL "
        f"{_per_request_ms(filing, 'postgres'):.2f} ms against {_per_request_ms(floor, 'postgres'):.2f} ms for "
        "the floor's writes."
    )
    submit, submit_floor = run.loads["submit"], run.loads["submit floor"]
    submit_statements = len(run.statements.get("submit (perform_action)", []))
    out.append(
        f"- **Submit.** {submit.throughput:,.0f}/s against the database floor of its writes, "
        f"{submit_floor.throughput:,.0f}/s ({submit.throughput / submit_floor.throughput:.2f} ×). A submit sends "
        f"{submit_statements} statements after authentication (the locked request with its authorship, the "
        "checks' context, the clocks, one UPDATE of the request, the audit event), where "
        "the floor needs 7 round trips (BEGIN, UPDATE, INSERT deadline, chain lock, chain head, INSERT event, "
        f"COMMIT). Per request the API process spent {_per_request_ms(submit, 'server'):.2f} ms of CPU, and "
        f"PostgreSQL {_per_request_ms(submit, 'postgres'):.2f} ms against "
        f"{_per_request_ms(submit_floor, 'postgres'):.2f} ms for the floor's writes."
    )
    queue = {key: r for key, r in run.loads.items() if key.startswith("queue:")}
    if queue:
        loaded = [r for key, r in queue.items() if not key.endswith(":alone")]
        alone = [r for key, r in queue.items() if key.endswith(":alone")]
        sql_ms = [_execution_ms(plan) for name, plan in run.queue_plans.items()]
        cpu_ms = [_per_request_ms(r, "server") for r in loaded]
        queue_statements = len(run.statements.get("queue, one bucket (list_queue)", []))
        out.append(
            f"- **Queue.** For the busiest authority the page, counts and next-deadline queries run in "
            f"{min(sql_ms):.1f}–{max(sql_ms):.1f} ms each in PostgreSQL (plans below). The API "
            f"process spends {min(cpu_ms):.1f}–{max(cpu_ms):.1f} ms of CPU per queue request ({queue_statements} "
            "statements after authentication, the page's rows converted to JSON). With "
            f"{loaded[0].concurrency if loaded else '?'} connections on {run.machine.cores} cores each request waits "
            "behind the others, so the latency is mostly queueing: "
            + ", ".join(f"p99 {r.p99:.0f} ms at {r.concurrency} connections" for r in loaded[:1])
            + (f", against p99 {min(r.p99 for r in alone):.0f}–{max(r.p99 for r in alone):.0f} ms with one "
               "connection." if alone else ".")
        )  # fmt: skip
    out.extend(_login_flood_findings(run))
    slow = {name: _execution_ms(plan) for name, plan in run.queue_plans.items() if _execution_ms(plan) > 10}
    if slow:
        out.append(
            "- **Slow queue queries** for the busiest authority: "
            + "; ".join(f"{name}: {ms:.0f} ms, {_plan_summary(run.queue_plans[name])}" for name, ms in slow.items())
            + "."
        )
    bypassing = [name for name, plan in run.queue_plans.items() if name.startswith("queue page") and
                 "ix_requests_queue" not in plan]  # fmt: skip
    if bypassing:
        out.append(
            f"- **Pages that do not walk `ix_requests_queue`:** {', '.join(bypassing)}. They fetch every matching "
            "row of the authority and sort it, so their cost grows with the queue instead of the page size."
        )
    churn = {
        key: r.cpu.sessions - 1
        for key, r in run.loads.items()
        if r.cpu is not None and r.cpu.sessions - 1 > 0.01 * max(r.completed, 1)
    }
    completed = {key: r.completed for key, r in run.loads.items()}
    if churn:
        per_server = max(1, run.setup.concurrency // max(1, run.setup.servers))
        out.append(
            "- **Connections opened under load.** New PostgreSQL sessions during "
            + ", ".join(f"{key} ({n:,}, one per {completed[key] // n:,} requests)" for key, n in churn.items())
            + f". Each API process serves about {per_server} requests at once with a pool of {API_POOL} "
            f"(+{POOL_OVERFLOW} overflow); "
            "overflow connections are closed when returned to a full pool and opened again for the next request, "
            "each costing a PostgreSQL backend start and an authentication."
        )
    if any("Workers Launched" in plan for plan in run.queue_plans.values()):
        out.append(
            "- **Parallel query on two cores.** Some queue plans start parallel workers (`Workers Launched`): "
            "processes started per query that compete with the other requests for the same two cores."
        )
    busy = [(key, r.cpu.busy / r.seconds) for key, r in run.loads.items() if r.cpu is not None and r.seconds]
    saturated = [key for key, cores in busy if cores > 0.9 * run.machine.cores]
    if saturated:
        during = "every load" if len(saturated) == len(busy) else ", ".join(saturated)
        out.append(
            f"- **The CPU is the limit.** During {during} the {run.machine.cores} cores were more than 90 % busy: "
            "the API processes, PostgreSQL and the load generator share them, so these throughputs are bounded by "
            "CPU per request, and latency at a fixed concurrency is that CPU time multiplied by the queueing."
        )
    others = [(key, _other_cores(r)) for key, r in run.loads.items() if r.cpu is not None]
    noisy = [f"{key} ({cores:.2f})" for key, cores in others if cores > 0.2]
    if noisy:
        out.append(
            "- **The machine was not idle.** Other processes used CPU while measuring (cores): "
            + ", ".join(noisy)
            + ". Those lines would be faster on a dedicated machine."
        )
    return out


def _login_flood_findings(run: Run) -> list[str]:
    alone, spray, guess = (run.loads.get(key) for key in ("list", "list:spray", "list:guess"))
    if alone is None or spray is None or guess is None or spray.background is None or guess.background is None:
        return []
    return [
        f"- **Log-in floods.** The authenticated list at {alone.concurrency} connections: p99 {alone.p99:.0f} ms "
        f"alone, {spray.p99:.0f} ms ({spray.p99 / alone.p99:.1f} ×) beside {spray.background.connections} clients "
        f"spraying wrong passwords at made-up accounts from as many addresses (the limits never engage, so each of "
        f"the {spray.background.rate:,.1f} attempts a second costs an argon2 verification, run in each API "
        f"process's two argon2 threads, off the event loop), and {guess.p99:.0f} ms "
        f"({guess.p99 / alone.p99:.1f} ×) beside {guess.background.connections} clients guessing one account "
        f"from one address ({guess.background.rate:,.0f} answers a second, almost all 429 after one Redis round "
        f"trip). The API processes used {_cores(spray, 'server'):.2f} cores under the spray, "
        f"{_cores(guess, 'server'):.2f} under the guessing and {_cores(alone, 'server'):.2f} for the list alone."
    ]


def _cores(result: LoadResult, who: str) -> float:
    if result.cpu is None or not result.seconds:
        return float("nan")
    return (result.cpu.server if who == "server" else result.cpu.postgres) / result.seconds


def _plan_summary(plan: str) -> str:
    """The plan's scan nodes, e.g. `Bitmap Heap Scan on requests (11,416 rows, 13,506 buffers read)`."""
    nodes = []
    for line in plan.splitlines():
        text = line.strip().removeprefix("->").strip()
        if " on " in text and ("Scan" in text.split(" on ")[0]) and "Bitmap Index" not in text:
            name = text.split("  (")[0]
            rows = text.split("rows=")[-1].split()[0] if "actual" in text else "?"
            nodes.append(f"{name} ({int(rows):,} rows)" if rows.isdigit() else name)
    reads = [int(part.split("=")[1]) for line in plan.splitlines() for part in line.split() if part.startswith("read=")]
    summary = ", ".join(dict.fromkeys(nodes)) or "see the plan"
    return summary + (f", {max(reads):,} buffers read from outside shared_buffers" if reads else "")


def _execution_ms(plan: str) -> float:
    line = next((line for line in plan.splitlines() if line.startswith("Execution Time:")), "")
    return float(line.split(":")[1].split()[0]) if line else float("nan")


def _per_request_ms(result: LoadResult, who: str) -> float:
    if result.cpu is None or not result.completed:
        return float("nan")
    seconds = result.cpu.server if who == "server" else result.cpu.postgres
    return 1000 * seconds / result.completed


def _other_cores(result: LoadResult) -> float:
    assert result.cpu is not None
    cpu = result.cpu
    used = cpu.server + cpu.postgres + result.client_cpu_seconds
    return max(0.0, cpu.busy - used) / result.seconds


def print_summary(run: Run) -> None:
    print()
    print("\n".join(figures_table(run)))
    print()
    for name, value in ratios(run).items():
        print(f"{name:32} {value:6.2f}")
    scan = run.scan
    print(
        f"\ndeadline scan: {scan.with_due.due:,} due -> decided in {scan.with_due.decide_seconds:.2f} s "
        f"({scan.with_due.statements:,} statements), whole job with the relay {scan.with_due.seconds:.2f} s "
        f"{scan.with_due.totals}; none due -> {1000 * scan.none_due.seconds:.1f} ms"
    )
    print(latency_line(run.latency))
    print()
    for aim, measured, met in aims(run):
        print(f"{'MET ' if met else 'MISS'} {aim}: {measured}")
    print(f"\nEXPLAIN ANALYZE, alert scan (first batch, {scan.with_due.due:,} due):\n" + scan.plan_due)
    print("\nEXPLAIN ANALYZE, alert scan (nothing due):\n" + scan.plan_none)
    for name, plan in run.queue_plans.items():
        print(f"\nEXPLAIN ANALYZE, {name}:\n{plan}")


def latency_line(latency: LatencyRun) -> str:
    return (
        f"alert latency: {latency.due:,} due at once, {latency.awaited:,} with a webhook -> {latency.received:,} "
        f"webhooks received, first "
        f"{latency.first:.2f} s, p50 {latency.p50:.2f} s, p99 {latency.p99:.2f} s, slowest {latency.slowest:.2f} s"
    )


def write_results(run: Run, path: Path = RESULTS) -> None:
    m, s, seed, scan = run.machine, run.setup, run.seed, run.scan
    settings = ", ".join(f"{k}={v}" for k, v in m.postgres_settings.items())
    statement_lines = [
        f"| {name} | {len(statements)} | {', '.join(_verb(x) for x in statements)} |"
        for name, statements in run.statements.items()
    ]
    per_batch = scan.with_due.statements / max(scan.with_due.batches, 1)
    text = [
        "# Benchmark results",
        "",
        f"Written by `{s.command}` on {m.date}. Re-running it rewrites this file.",
        "",
        "## Machine",
        "",
        f"- CPU: {m.cpu}, {m.cores} cores; memory {m.memory_gib:.1f} GiB; Linux {m.kernel}; Python {m.python}",
        f"- PostgreSQL: {m.postgres} (same machine), settings: {settings}",
        "- Redis on the same machine (the API checks it for readiness and counts failed log-ins in it).",
        "",
        "## Setup",
        "",
        f"- Database `mla_bench`, created for the run (migrations to head, reference data), seeded in "
        f"{s.seed_seconds:.0f} s: {seed.requests:,} requests across "
        f"{s.organisations}; {seed.deadlines_open:,} open deadlines "
        f"({seed.in_scan_index:,} in the scan's partial index, exactly {seed.due:,} due at the scan instant); "
        f"{seed.audit_events:,} audit events with real hash chains; {seed.drafts:,} drafts to submit; "
        f"{seed.database_bytes / 2**30:.1f} GiB on disk.",
        f"- API: {s.servers} × `mla serve` (uvicorn, uvloop, httptools, JSON access log to a file, SQLAlchemy pool "
        f"{API_POOL} + {POOL_OVERFLOW} overflow, no pre-ping, one session and transaction per request), as "
        "docker-compose runs it; the load generator spreads its connections over them "
        "as a load balancer would.",
        f"- Load: {s.load_processes} load-generator processes (asyncio, a minimal keep-alive HTTP/1.1 client, "
        f"bench/client.py), {s.concurrency} connections in all, closed loop (each sends its next request when the "
        f"last one answered), {s.warmup:.0f} s warm-up then {s.duration:.0f} s measured per line. p50/p99 are over "
        "every request started in the measured window.",
        "- The HTTP ceiling is `GET /health/live`, a constant JSON answer from the same servers, through the same "
        "middleware (request id, access log, metrics). The database floor runs the filing's writes (reference "
        "number, request row, chain lock, chain head, `create` event with its hash) through raw asyncpg with the "
        "same concurrency, from the same kind of processes. The submit's floor likewise runs a submit's writes "
        "(the request row updated once, the review clock inserted, chain lock, chain head, `submit` event with "
        "the checks' records and its hash) on drafts of its own, moved back and forth between `draft` and "
        "`under_review` and put back afterwards.",
        "- The deadline scan is `workers.jobs.scan_alerts` run in-process (the worker's own loop, batches of "
        f"{SCAN_BATCH:,}, "
        "one transaction each) with a fixed clock at the scan instant, on a pool of 5 like the worker's; no worker "
        "runs during the HTTP loads. Afterwards the database is put back as seeded.",
        "",
        "## Figures",
        "",
        *figures_table(run),
        "",
        "CPU columns: core-seconds per second of the measured window, from /proc (2 cores = 2.00). "
        "PostgreSQL counts every PostgreSQL process, those that ended during the window included (pool "
        "overflow connections, parallel workers), whatever their database; 'other' is everything else on the "
        "machine. Sessions opened: new connections to the benchmark database during the window.",
        "",
        "| ratio | value |",
        "|---|---:|",
        *(f"| {name} | {value:.2f} |" for name, value in ratios(run).items()),
        "",
        "### Deadline scan",
        "",
        "| case | scan: find and decide | of which waiting on PostgreSQL | SQL statements | alerts | deliveries "
        "| whole job, with the relay to Redis |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| {scan.with_due.due:,} due among {seed.in_scan_index:,} scheduled | {scan.with_due.decide_seconds:.2f} s | "
        f"{scan.with_due.database_seconds:.2f} s | {scan.with_due.statements:,} in {scan.with_due.batches} batch(es) "
        f"({per_batch:.0f} per batch) | {scan.with_due.totals.get('alerts', 0):,} "
        f"| {scan.with_due.totals.get('deliveries', 0):,} | {scan.with_due.seconds:.2f} s "
        f"({scan.with_due.relay_statements:,} statements, {scan.with_due.totals.get('published', 0):,} "
        "deliveries published) |",
        f"| nothing due | {1000 * scan.none_due.decide_seconds:.1f} ms | "
        f"{1000 * scan.none_due.database_seconds:.1f} ms | {scan.none_due.statements} | 0 | 0 | "
        f"{1000 * scan.none_due.seconds:.1f} ms |",
        "",
        "### Alert latency",
        "",
        "A `mla worker` process as docker-compose runs it (system clock, its alarm and minute cron, `deliver_alerts` "
        "jobs); every organisation has one webhook, to a receiver in the benchmark's process (the alerts of a "
        "confidential request go to no webhook, so the line awaits the others), and e-mail goes to an "
        "SMTP sink there that drops it. The seeded-due deadlines are moved, in one committed statement, to fall due "
        "together a few seconds later; each webhook's latency is its arrival minus that instant (never received: "
        "counted as infinitely late).",
        "",
        "| alerts due at once | with a webhook | webhooks received | first (s) | p50 (s) | p99 (s) | slowest (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {run.latency.due:,} | {run.latency.awaited:,} | {run.latency.received:,} | {run.latency.first:.2f} "
        f"| {run.latency.p50:.2f} "
        f"| {run.latency.p99:.2f} | {run.latency.slowest:.2f} |",
        "",
        "### SQL per use case",
        "",
        "Counted in-process through the services themselves, in one transaction per HTTP request as the API runs "
        "them (authentication, then the handler), with warm caches, rolled back. Each request adds two round "
        "trips: BEGIN, and COMMIT or ROLLBACK.",
        "",
        "| use case | statements | which |",
        "|---|---:|---|",
        *statement_lines,
        "",
        "## Against the aims",
        "",
        "| aim | measured | |",
        "|---|---:|---|",
        *(f"| {aim} | {measured} | {'met' if met else '**missed**'} |" for aim, measured, met in aims(run)),
        "",
        "## Where it falls short, and why",
        "",
        "The profiles behind these reasons are in [PROFILES.md](PROFILES.md).",
        "",
        *findings(run),
        "",
        "## Plans",
        "",
        f"### Alert scan, first batch with {scan.with_due.due:,} due (the claim query of `scan_due_alerts`)",
        "",
        "```",
        scan.plan_due,
        "```",
        "",
        "### Alert scan, nothing due",
        "",
        "```",
        scan.plan_none,
        "```",
        "",
        *(
            line
            for name, plan in (run.queue_plans | run.list_plans).items()
            for line in (f"### {name}", "", "```", plan, "```", "")
        ),
    ]
    path.write_text("\n".join(text) + "\n")


def _verb(statement: str) -> str:
    """A statement in a few words: its verb and the tables it reads or writes (`SELECT users/tokens`,
    `INSERT audit_events`), or the function a bare SELECT calls (`SELECT pg_advisory_xact_lock`)."""
    words = statement.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()
    verb = words[0].upper() if words else "?"
    tables: list[str] = []
    for keyword, name in zip(words, words[1:], strict=False):
        is_table = keyword.upper() in _TABLE_KEYWORDS and name.isidentifier() and name.upper() not in _NOT_TABLES
        if is_table and name not in tables:
            tables.append(name)
    if tables:
        return f"{verb} {'/'.join(tables)}"
    return f"{verb} {words[1]}" if len(words) > 1 and verb == "SELECT" else verb


_TABLE_KEYWORDS = frozenset({"FROM", "JOIN", "INTO", "UPDATE"})
_NOT_TABLES = frozenset({"SELECT", "LATERAL", "ONLY", "OF"})
