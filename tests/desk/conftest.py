"""Browser tests: a real `mla serve` on the test database, driven by the system's Chromium through Playwright.

Playwright never downloads a browser here: it launches `/usr/bin/chromium` (Debian's `chromium`
package, which `.ci/run` installs). Without it the browser tests are skipped, saying why.
"""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar

from mla.clock import FixedClock
from mla.settings import Settings
from tests.alerts.support import Outbox, free_port, own_outbox
from tests.conftest import Servers

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "desk"
SERVER_START_SECONDS = 60
WORKER_BURST_SECONDS = 120


@pytest.fixture(scope="session")
def server(
    database_url: str, servers: Servers, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`mla serve` in a subprocess, on the test database (as its runtime role) and Redis; yields its base URL.

    It shares the in-process app's keys and checkpoint log (so both verify the same chains), and
    counts its failed log-ins under a Redis prefix of its own.
    """
    port = free_port()
    folder = tmp_path_factory.mktemp("serve")
    log = folder / "serve.log"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MLA_")} | {
        "MLA_DATABASE_URL": database_url,
        "MLA_REDIS_URL": servers.redis_url,
        "MLA_SECRET_KEY": settings.secret_key,
        "MLA_AUDIT_KEYS": settings.audit_keys,
        "MLA_CHECKPOINT_SIGNING_KEY": settings.checkpoint_signing_key,
        "MLA_CHECKPOINT_LOG": settings.checkpoint_log,
        "MLA_QUEUE_NAME": settings.queue_name,
        "MLA_REDIS_KEY_PREFIX": f"{settings.redis_key_prefix}:desk-serve",
        "MLA_DATA_DIR": str(folder / "data"),
    }
    command = [sys.executable, "-m", "mla", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_live(base, process, log)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_until_live(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(SERVER_START_SECONDS * 10):
        if process.poll() is not None:
            raise RuntimeError(f"mla serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a starting subprocess: the one place a test waits on the wall clock
    raise RuntimeError(f"mla serve did not answer within {SERVER_START_SECONDS} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("browser tests need /usr/bin/chromium (apt-get install -y chromium chromium-driver)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        await chromium.close()


@dataclass
class Console:
    """Every error the page logs; a test fails on any it did not announce with `expect`."""

    errors: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def expect(self, fragment: str) -> None:
        self.expected.append(fragment)

    def unexpected(self) -> list[str]:
        return [error for error in self.errors if not any(fragment in error for fragment in self.expected)]


@dataclass
class Tab:
    page: Any
    console: Console
    base: str

    def url(self, path: str) -> str:
        return self.base + path

    async def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=full_page)
        return path


@asynccontextmanager
async def open_tab(browser: Any, base: str) -> AsyncIterator[Tab]:
    """A fresh browser context (no cookies) with one page on `base`; fails on an unexpected console error."""
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    page = await context.new_page()
    console = Console()
    page.on("console", lambda message: console.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    yield Tab(page, console, base)
    await context.close()
    assert console.unexpected() == [], f"browser console errors: {console.unexpected()}"


@pytest.fixture
async def tab(browser: Any, server: str) -> AsyncIterator[Tab]:
    """A tab on `mla serve`."""
    async with open_tab(browser, server) as opened:
        yield opened


@dataclass
class ClockedDesk:
    """The app on a database of its own and on the tests' FixedClock, served over HTTP."""

    base: str
    outbox: Outbox


@pytest.fixture
async def clocked_desk(servers: Servers, clock: FixedClock) -> AsyncIterator[ClockedDesk]:
    """The desk at the test's time: `create_app` with the injected clock, served by uvicorn in the test's loop.

    Its database is its own, so `mla worker --burst --now` may scan all of it (the scan claims every
    due deadline of a database). Production has no way to shift the server's clock: this is the
    in-process app the other tests use, reachable by a browser.
    """
    async with own_outbox(servers, clock) as outbox, served(outbox.app) as base:
        yield ClockedDesk(base, outbox)


@asynccontextmanager
async def served(app: Litestar) -> AsyncIterator[str]:
    """`app` over HTTP on a free port (its lifespan already entered by the caller); yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # it failed to start: raise why
        await asyncio.sleep(0.01)  # waiting for a server to bind, not for time to pass
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def run_worker_burst(settings: Settings, at: datetime, smtp_port: int, folder: Path) -> str:
    """`mla worker --burst --now <at>` against `settings`' database and Redis, e-mail to `smtp_port`; its output."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MLA_")} | {
        "MLA_DATABASE_URL": settings.database_url or "",
        "MLA_REDIS_URL": settings.redis_url or "",
        "MLA_AUDIT_KEYS": settings.audit_keys,
        "MLA_QUEUE_NAME": settings.queue_name,
        "MLA_REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "MLA_SMTP_HOST": "127.0.0.1",
        "MLA_SMTP_PORT": str(smtp_port),
        "MLA_DATA_DIR": str(folder),
    }
    command = [sys.executable, "-m", "mla", "worker", "--burst", "--now", at.isoformat()]
    process = await asyncio.create_subprocess_exec(
        *command, env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), WORKER_BURST_SECONDS)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-3000:]
    return text


@pytest.fixture
def wall_clock(clock: FixedClock) -> FixedClock:
    """The server runs on the system clock: data the test arranges in-process must be made at the same time."""
    clock.set(datetime.now(UTC))
    return clock
