"""What the benchmark ran on, and who used the CPU while it measured (from /proc; Linux only)."""

import asyncio
import os
import platform
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    postgres: str
    python: str
    kernel: str
    date: str
    postgres_settings: dict[str, str]


def describe(postgres_version: str, postgres_settings: dict[str, str]) -> Machine:
    cpuinfo, meminfo = _read("/proc/cpuinfo").splitlines(), _read("/proc/meminfo").splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown")
    memory_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    return Machine(
        cpu=cpu,
        cores=os.cpu_count() or 1,
        memory_gib=memory_kib / 1024 / 1024,
        postgres=postgres_version,
        python=sys.version.split()[0],
        kernel=platform.release(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        postgres_settings=postgres_settings,
    )


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used, by whom; a difference of two samples covers the time between them."""

    busy: float  # the whole machine, every core
    server: float  # the API processes
    postgres: float  # every PostgreSQL process, including backends and parallel workers that exited meanwhile
    sessions: int  # PostgreSQL sessions opened on the benchmark database so far

    def __sub__(self, other: "CpuSample") -> "CpuSample":
        return CpuSample(
            self.busy - other.busy,
            self.server - other.server,
            self.postgres - other.postgres,
            self.sessions - other.sessions,
        )


def cpu_sample(server_pids: list[int] | tuple[int, ...] = (), database_url: str | None = None) -> CpuSample:
    """Read the counters now. Exited PostgreSQL processes (pool overflow, parallel workers) are counted
    through the postmaster, which collects its children's CPU time when they end."""
    fields = _read("/proc/stat").splitlines()[0].split()[1:]
    busy = sum(int(v) for v in fields) - int(fields[3]) - int(fields[4])  # minus idle and iowait
    server = sum(_process_ticks(pid) for pid in server_pids)
    postgres = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        command = _read(entry / "cmdline").replace("\0", " ")
        if not command.split(" ", 1)[0].endswith("postgres") and not command.startswith("postgres:"):
            continue
        postgres += _process_ticks(int(entry.name), with_children=" -D " in command)
    sessions = asyncio.run(_sessions(database_url)) if database_url else 0
    return CpuSample(busy / TICKS, server / TICKS, postgres / TICKS, sessions)


async def _sessions(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        query = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        return int(await connection.fetchval(query))
    finally:
        await connection.close()


def _process_ticks(pid: int, *, with_children: bool = False) -> int:
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    own = int(fields[11]) + int(fields[12])  # utime, stime
    return own + (int(fields[13]) + int(fields[14]) if with_children else 0)  # cutime, cstime


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""
