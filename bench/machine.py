"""What the benchmark ran on, and who used the CPU while it measured (from /proc; Linux only)."""

import os
import platform
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.database import BENCH_DATABASE

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
    postgres: float  # backends of the benchmark database, and the shared ones (WAL writer, checkpointer...)
    postgres_elsewhere: float  # backends connected to other databases: someone else's work

    def __sub__(self, other: "CpuSample") -> "CpuSample":
        return CpuSample(
            self.busy - other.busy,
            self.server - other.server,
            self.postgres - other.postgres,
            self.postgres_elsewhere - other.postgres_elsewhere,
        )


def cpu_sample(server_pids: list[int] | tuple[int, ...] = ()) -> CpuSample:
    fields = _read("/proc/stat").splitlines()[0].split()[1:]
    busy = sum(int(v) for v in fields) - int(fields[3]) - int(fields[4])  # minus idle and iowait
    server = sum(_process_ticks(pid) for pid in server_pids)
    ours = elsewhere = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        command = _read(entry / "cmdline").replace("\0", " ")
        if not command.startswith("postgres"):
            continue
        ticks = _process_ticks(int(entry.name))
        is_backend = "(" in command or "[local]" in command  # "postgres: 15/main: user db 127.0.0.1(port) ..."
        if is_backend and f" {BENCH_DATABASE} " not in command:
            elsewhere += ticks
        else:
            ours += ticks
    return CpuSample(busy / TICKS, server / TICKS, ours / TICKS, elsewhere / TICKS)


def _process_ticks(pid: int) -> int:
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""
