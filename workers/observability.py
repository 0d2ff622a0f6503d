"""Every job logs under its own id and counts its outcome in Redis for /metrics."""

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mla.observability.logs import request_id_var
from mla.observability.metrics import job_outcomes_key

log = logging.getLogger("mla.worker")
Job = Callable[..., Awaitable[Any]]


def observed(job: Job) -> Job:
    """Wrap an arq job: `request_id` is `job:<id>` on its log lines; `ok`/`error` counted per job name."""

    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        token = request_id_var.set(f"job:{ctx.get('job_id')}")
        try:
            result = await job(ctx, *args, **kwargs)
        except Exception:
            await _count(ctx, job.__name__, "error")
            log.exception("job %s failed", job.__name__)
            raise
        else:
            await _count(ctx, job.__name__, "ok")
            log.info("job %s done", job.__name__, extra={"fields": {"job": job.__name__, "result": result}})
            return result
        finally:
            request_id_var.reset(token)

    return run


async def _count(ctx: dict[str, Any], name: str, outcome: str) -> None:
    try:
        await ctx["redis"].hincrby(job_outcomes_key(ctx["settings"].queue_name), f"{name}:{outcome}", 1)
    except Exception:  # the count is a convenience: never fail a job over it
        log.warning("could not count the outcome of job %s", name)
