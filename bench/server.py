"""The API as deployed: `mla serve` processes (uvicorn, uvloop, httptools, JSON access logs), one per port.

The deployment shape (docker-compose.yml, SPEC §3) is stateless `mla serve` processes behind a
load balancer; here the load generator spreads its connections over the ports instead.
"""

import os
import secrets
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.database import BENCH_AUDIT_KEYS

LOGS = Path(__file__).resolve().parent / "data"
FIRST_PORT = 8701


@dataclass
class Servers:
    processes: list[subprocess.Popen[bytes]]
    ports: list[int]
    secret_key: str  # signs their access tokens: the desk's session cookie is one

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_servers(count: int, database_url: str, redis_url: str) -> Servers:
    """Start `count` API processes on consecutive ports and wait until each answers /health/ready."""
    LOGS.mkdir(exist_ok=True)
    secret_key = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "MLA_DATABASE_URL": database_url,
        "MLA_REDIS_URL": redis_url,
        "MLA_SECRET_KEY": secret_key,
        "MLA_AUDIT_KEYS": BENCH_AUDIT_KEYS,
        # Failed log-ins of one run do not lock out the next one's.
        "MLA_REDIS_KEY_PREFIX": f"mla:bench:{secrets.token_hex(4)}",
    }
    ports = [FIRST_PORT + k for k in range(count)]
    processes = []
    for port in ports:
        log = (LOGS / f"server-{port}.log").open("wb")
        command = [sys.executable, "-m", "mla", "serve", "--host", "127.0.0.1", "--port", str(port)]
        processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
    servers = Servers(processes, ports, secret_key)
    try:
        for port, process in zip(ports, processes, strict=True):
            _wait_ready(port, process)
    except BaseException:
        servers.stop()
        raise
    return servers


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: `mla serve` on port {port} exited; see {LOGS}/server-{port}.log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: `mla serve` on port {port} not ready after {timeout:.0f} s")
