"""The load generator: worker processes, each an asyncio loop running N closed-loop tasks for a fixed time.

Each task repeats one operation back to back (a new one as soon as the last answered), so the
concurrency is fixed and the latency is the service time at that concurrency. A short warm-up is
run and discarded; then operations *started* inside the measured window are timed, and those
*finished* inside it are counted for throughput. The processes start together on a barrier; the
parent process joins it too, so it knows the window and can sample CPU use around it.
"""

import asyncio
import multiprocessing
import resource
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from bench.machine import CpuSample, cpu_sample


class Operation(Protocol):
    async def __call__(self) -> tuple[bool, str] | None:
        """(success, detail on failure), or None when there is no more work (e.g. drafts used up)."""


class Scenario(Protocol):
    """Picklable description of a load; `open` builds one operation per task inside the worker."""

    name: str

    async def open(self, task: int) -> Operation: ...

    async def close(self) -> None: ...


@dataclass
class LoadResult:
    name: str
    concurrency: int
    seconds: float
    completed: int = 0
    errors: int = 0
    error_sample: str | None = None
    latencies: list[float] = field(default_factory=list)
    client_cpu_seconds: float = 0.0
    cpu: CpuSample | None = None
    exhausted: bool = False

    @property
    def throughput(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        """In milliseconds; nearest-rank on the sorted sample."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)

    def merge(self, other: "LoadResult") -> None:
        self.completed += other.completed
        self.errors += other.errors
        self.error_sample = self.error_sample or other.error_sample
        self.latencies.extend(other.latencies)
        self.client_cpu_seconds += other.client_cpu_seconds
        self.exhausted = self.exhausted or other.exhausted


def run_load(
    scenarios: list[Scenario],
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    server_pids: list[int] = (),  # type: ignore[assignment]
    database_url: str | None = None,
) -> LoadResult:
    """Run one worker process per scenario (each with its share of the tasks) and merge the results."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(scenarios) + 1)
    results = context.Queue()
    per_process, extra = divmod(concurrency, len(scenarios))
    shares = [per_process + (1 if k < extra else 0) for k in range(len(scenarios))]
    workers = [
        context.Process(target=_worker, args=(scenario, tasks, warmup, duration, barrier, results))
        for scenario, tasks in zip(scenarios, shares, strict=True)
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=120)
    time.sleep(warmup)
    before = cpu_sample(server_pids, database_url)
    time.sleep(duration)
    after = cpu_sample(server_pids, database_url)
    merged = LoadResult(scenarios[0].name, concurrency, duration, cpu=after - before)
    for _ in workers:
        merged.merge(results.get(timeout=duration + warmup + 300))
    for worker in workers:
        worker.join()
    return merged


def _worker(scenario: Scenario, tasks: int, warmup: float, duration: float, barrier: Any, results: Any) -> None:
    try:
        import uvloop  # the same event loop uvicorn runs on

        uvloop.install()
    except ImportError:
        pass
    results.put(asyncio.run(_drive(scenario, tasks, warmup, duration, barrier)))


async def _drive(scenario: Scenario, tasks: int, warmup: float, duration: float, barrier: Any) -> LoadResult:
    operations = [await scenario.open(task) for task in range(tasks)]
    result = LoadResult(scenario.name, tasks, duration)
    barrier.wait(timeout=120)
    start = time.perf_counter()
    measured_from, end = start + warmup, start + warmup + duration

    async def repeat(operation: Operation) -> None:
        while (started := time.perf_counter()) < end:
            outcome = await operation()
            finished = time.perf_counter()
            if outcome is None:
                result.exhausted = True
                return
            ok, detail = outcome
            if ok and started >= measured_from:
                result.latencies.append(finished - started)
            if measured_from <= finished <= end:
                if ok:
                    result.completed += 1
                else:
                    result.errors += 1
                    result.error_sample = result.error_sample or detail

    async def measure_cpu() -> None:
        await asyncio.sleep(warmup)
        used = _cpu_seconds()
        await asyncio.sleep(duration)
        result.client_cpu_seconds = _cpu_seconds() - used

    await asyncio.gather(measure_cpu(), *(repeat(operation) for operation in operations))
    await scenario.close()
    return result


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
