"""Enqueueing a batch of jobs in one pipeline: arq's workers run each once, and a known job id is not queued again."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker, func

from mla.alerts.relay import QueuedJob, enqueue_jobs
from tests.conftest import Servers


@pytest.fixture
async def redis(servers: Servers) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings.from_dsn(servers.redis_url))
    yield pool
    await pool.aclose()


async def run_queue(redis: ArqRedis, queue_name: str) -> list[tuple[str, str]]:
    """Run what is queued, once, in an arq worker; returns (job id, argument) of each run."""
    ran: list[tuple[str, str]] = []

    async def record(ctx: dict[str, Any], argument: str) -> None:
        ran.append((ctx["job_id"], argument))

    worker = Worker(
        functions=[func(record, name="record")],
        redis_pool=redis,
        queue_name=queue_name,
        burst=True,
        poll_delay=0,
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await worker.close()
    return ran


async def test_a_batch_enqueued_in_one_pipeline_runs_each_job_once_with_its_arguments(redis: ArqRedis) -> None:
    run = uuid.uuid4().hex[:8]  # arq keeps results: job ids of an earlier run are known
    queue_name = f"mla:test:relay:{run}"
    jobs = [QueuedJob(f"job:{run}:{k}", "record", (f"argument {k}",)) for k in range(50)]

    assert await enqueue_jobs(redis, queue_name, jobs) == 50

    assert sorted(await run_queue(redis, queue_name)) == sorted((j.job_id, j.args[0]) for j in jobs)


async def test_a_job_id_already_queued_is_not_queued_again(redis: ArqRedis) -> None:
    run = uuid.uuid4().hex[:8]
    queue_name = f"mla:test:relay:{run}"
    a, b, c = (f"delivery:{run}:{name}:0" for name in "abc")
    await enqueue_jobs(redis, queue_name, [QueuedJob(a, "record", ("a",)), QueuedJob(b, "record", ("b",))])

    again = [QueuedJob(b, "record", ("b",)), QueuedJob(c, "record", ("c",))]
    assert await enqueue_jobs(redis, queue_name, again) == 1

    assert sorted(await run_queue(redis, queue_name)) == [(a, "a"), (b, "b"), (c, "c")]
