"""Keep a worker running inside another process (`mla up`): restart it with back-off when it dies.

arq's worker ends when its Redis connection drops (arq#498); as a task that nobody watches it
would stay dead while the API went on answering. Here every end is logged and followed by a new
worker after a pause that doubles up to `MAX_BACKOFF_SECONDS`, and shrinks back once a worker has
run for `HEALTHY_AFTER_SECONDS`.
"""

import asyncio
import logging
import time
from collections.abc import Callable

from arq.worker import Worker

log = logging.getLogger("mla.worker")
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
HEALTHY_AFTER_SECONDS = 60.0


async def run_supervised(build_worker: Callable[[], Worker], *, first_backoff: float = FIRST_BACKOFF_SECONDS) -> None:
    """Run workers from `build_worker` one after another until cancelled."""
    backoff = first_backoff
    while True:
        started = time.monotonic()
        worker = build_worker()
        try:
            await worker.async_run()
            log.error("the worker stopped; starting a new one in %.0f s", backoff)
        except Exception:
            log.exception("the worker failed; starting a new one in %.0f s", backoff)
        finally:
            await _close_quietly(worker)
        if time.monotonic() - started > HEALTHY_AFTER_SECONDS:
            backoff = first_backoff
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


async def _close_quietly(worker: Worker) -> None:
    """Release what the dead worker held; its Redis may be the reason it died, so errors are expected."""
    try:
        await worker.close()
        return
    except asyncio.CancelledError:  # arq re-raises the CancelledError of the jobs it cancelled
        log.info("the worker's running jobs were cancelled; releasing its resources directly")
    except Exception:
        log.warning("closing the stopped worker failed; releasing its resources directly", exc_info=True)
    if worker.on_shutdown is not None:
        await worker.on_shutdown(worker.ctx)
