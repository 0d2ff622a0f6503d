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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
    background: "Background | None" = None  # what ran beside the measured load, unmeasured

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


@dataclass
class Background:
    """What an unmeasured load running beside a measured one got back."""

    name: str
    connections: int
    seconds: float = 0.0
    answers: int = 0
    expected: int = 0  # answered with the status the scenario expects
    unexpected_sample: str | None = None

    @property
    def rate(self) -> float:
        return self.answers / self.seconds if self.seconds else 0.0


@contextmanager
def _in_background(scenario: Scenario, connections: int) -> Iterator[Background]:
    """Run `scenario` on `connections` closed-loop tasks in a process of its own while the block runs.

    The Background is filled in when the block ends.
    """
    context = multiprocessing.get_context("spawn")
    started, stop, results = context.Event(), context.Event(), context.Queue()
    process = context.Process(target=_background_worker, args=(scenario, connections, started, stop, results))
    process.start()
    background = Background(scenario.name, connections)
    try:
        if not started.wait(timeout=120):
            raise RuntimeError(f"background load {scenario.name} did not start")
        yield background
    finally:
        stop.set()
        vars(background).update(vars(results.get(timeout=300)))
        process.join()


def _background_worker(scenario: Scenario, connections: int, started: Any, stop: Any, results: Any) -> None:
    results.put(asyncio.run(_flood(scenario, connections, started, stop)))


async def _flood(scenario: Scenario, connections: int, started: Any, stop: Any) -> Background:
    operations = [await scenario.open(task) for task in range(connections)]
    found = Background(scenario.name, connections)
    started.set()
    began = time.perf_counter()

    async def repeat(operation: Operation) -> None:
        while not stop.is_set():
            outcome = await operation()
            if outcome is None:
                return
            found.answers += 1
            found.expected += outcome[0]
            found.unexpected_sample = found.unexpected_sample or (outcome[1] or None)

    await asyncio.gather(*(repeat(operation) for operation in operations))
    found.seconds = time.perf_counter() - began
    await scenario.close()
    return found


def run_load(
    scenarios: list[Scenario],
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    server_pids: list[int] = (),  # type: ignore[assignment]
    database_url: str | None = None,
    beside: tuple[Scenario, int] | None = None,
) -> LoadResult:
    """Run one worker process per scenario (each with its share of the tasks) and merge the results.

    `beside`: a scenario and its connections, run unmeasured during the warm-up and the measured
    window; started once the measured processes are ready, so that its load does not slow their start.
    """
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
    with ExitStack() as running:
        background = None
        if beside is not None:
            _wait_until_waiting(barrier, len(workers))
            background = running.enter_context(_in_background(*beside))
        barrier.wait(timeout=120)
        time.sleep(warmup)
        before = cpu_sample(server_pids, database_url)
        time.sleep(duration)
        after = cpu_sample(server_pids, database_url)
        merged = LoadResult(scenarios[0].name, concurrency, duration, cpu=after - before)
        for _ in workers:
            merged.merge(results.get(timeout=duration + warmup + 300))
    merged.background = background
    for worker in workers:
        worker.join()
    return merged


def _wait_until_waiting(barrier: Any, parties: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while barrier.n_waiting < parties:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the load processes were not ready within {timeout:.0f} s")
        time.sleep(0.05)


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
