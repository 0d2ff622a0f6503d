"""Enqueue many arq jobs in one round trip to Redis, with arq's own de-duplication by job id.

`ArqRedis.enqueue_job` costs several round trips a job (WATCH, EXISTS, MULTI/EXEC); publishing a
batch of deliveries one job at a time made the relay the slowest part of an alert. Here each job
is the same check-and-write as arq's, made atomic by a Lua script instead of WATCH, and a whole
batch goes in one pipeline: a job whose id is queued, running or has a kept result is not enqueued
again. The job is serialised by arq's own `serialize_job` with the pool's serializer, so workers
read it as any other.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms

# KEYS: job key, result key, queue; ARGV: expiry (ms), serialised job, job id, score.
ENQUEUE_ONCE = """
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('PSETEX', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
return 1
"""


@dataclass(frozen=True, slots=True)
class QueuedJob:
    job_id: str
    function: str
    args: tuple[Any, ...]


async def enqueue_jobs(redis: ArqRedis, queue_name: str, jobs: Sequence[QueuedJob]) -> int:
    """Enqueue every job not already known by its id, to run now; returns how many were new.

    Raises the Redis error if Redis cannot be reached: the caller's transaction then rolls back and
    nothing is marked published.
    """
    if not jobs:
        return 0
    script = redis.register_script(ENQUEUE_ONCE)
    enqueued_at = timestamp_ms()
    async with redis.pipeline(transaction=False) as pipe:
        for job in jobs:
            serialised = serialize_job(job.function, job.args, {}, None, enqueued_at, serializer=redis.job_serializer)
            keys = [job_key_prefix + job.job_id, result_key_prefix + job.job_id, queue_name]
            await script(keys=keys, args=[redis.expires_extra_ms, serialised, job.job_id, enqueued_at], client=pipe)
        results = await pipe.execute()
    return sum(int(result) for result in results)
