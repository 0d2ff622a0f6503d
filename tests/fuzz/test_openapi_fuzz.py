"""Schemathesis against the real API: every answer is one the OpenAPI document announces, never a 5xx.

A real `mla serve` runs as a subprocess (schemathesis calls are synchronous and must not share the
tests' event loop) on a database of this module's own: the fuzzer acts as a platform administrator
and an organisation's admin, so it creates organisations, counterparties, instruments, users and
webhooks and edits the catalogue, none of which may leak into the other tests. An organisation
with a central authority, a case, a request, a production, a webhook and a user to administer (the
auditor, whose token nothing else uses) give the path parameters real ids to hit, beside the
random ones schemathesis draws; logging out spends the supervisor's token. Every operation is
called with a bearer token of the role it is meant for. Each answer must be documented: its status
code, its content type and its body's schema (401/403/404/409/422 are intended answers here, as
long as the document lists them, as problem+json).

The document is built in-process from the same `create_app` (it does not depend on the settings),
so the tests are generated at collection, one per operation; the server answers them.

CI runs a few examples per operation, deterministically; by hand, run more:
`MLA_FUZZ_EXAMPLES=200 uv run pytest tests/fuzz`.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from sqlalchemy import select

from mla.app import create_app
from mla.checks.rules import REGISTRY
from mla.clock import FixedClock
from mla.db import create_engine, create_sessionmaker
from mla.enums import OrganisationKind, Role
from mla.instruments.catalogue import CATALOGUE
from mla.migrate import PROJECT_ROOT
from mla.reference_data import seed_reference_data
from mla.settings import Settings
from mla.treaties.catalogue import TREATIES
from mla.users.models import ApiToken
from mla.workflow.table import Action
from tests.conftest import TEST_KEYRING, Servers, two_role_database
from tests.factories import World

# One xdist worker runs the whole module, so only one `mla serve` and fuzz database are started.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fuzz")]

EXAMPLES = int(os.environ.get("MLA_FUZZ_EXAMPLES", "10"))  # fuzzed cases per operation, beyond the fixed ones
STARTUP_TIMEOUT = 60  # seconds for the server to answer /health/ready
CALL_TIMEOUT = 30  # seconds for one call; a hang fails the case instead of the run
LOG_TAIL = 60  # server log lines shown when it does not start

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Only to build the document: no connection is opened, nothing is signed.
DOCUMENT_SETTINGS = Settings(database_url="postgresql://unused", redis_url="redis://unused", secret_key="x" * 16)


@dataclass
class Server:
    url: str
    log: Path

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-LOG_TAIL:])

    def errors_since(self, offset: int) -> str:
        """The tracebacks the server logged after `offset` (its log is one JSON object a line)."""
        with self.log.open("rb") as log:
            log.seek(offset)
            lines = log.read().decode(errors="replace").splitlines()
        entries = [json.loads(line) for line in lines if line.startswith("{") and line.endswith("}")]
        errors = [f"{e['message']}\n{e.get('exception', '')}" for e in entries if e.get("level") == "error"]
        return "\n".join(errors) or "(nothing at level error)"


INSTALLATION_ROUTES = tuple(
    f"/api/v1/admin/{name}" for name in ("organisations", "counterparties", "instruments", "deadline-rules")
)


@dataclass
class Fixtures:
    """The tokens to call with and the real ids to put in path parameters."""

    admin: str
    platform_admin: str
    prosecutor: str
    central_authority: str
    logout: str
    ids: dict[str, list[str]]

    def token_for(self, path: str) -> str:
        if path == "/api/v1/auth/logout":
            return self.logout
        if path.startswith(INSTALLATION_ROUTES):
            return self.platform_admin
        if path.startswith("/api/v1/admin/"):
            return self.admin
        if path in ("/api/v1/queue", "/api/v1/requests/{request_id}/assign") or path.endswith("/attestation"):
            return self.central_authority
        return self.prosecutor

    def real_values(self, path: str, name: str) -> list[str]:
        if name == "code":  # one name, three meanings
            if "/treaties" in path:
                return self.ids["treaty_code"]
            return self.ids["check_code" if path.startswith("/api/v1/requests/") else "instrument_code"]
        return self.ids.get(name, [])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
async def fuzz_database_url(servers: Servers) -> AsyncIterator[str]:
    """A migrated database with the reference data, for the fuzzed server alone (its runtime role's URL)."""
    async with two_role_database(servers, "mla_fuzz") as database:
        url = database.runtime_url
        engine = create_engine(url, null_pool=True)
        try:
            async with create_sessionmaker(engine, TEST_KEYRING)() as session, session.begin():
                await seed_reference_data(session, FixedClock(datetime.now(UTC)))
        finally:
            await engine.dispose()
        yield url


@pytest.fixture(scope="module")
def server(
    fuzz_database_url: str, servers: Servers, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`mla serve` on a free port, ready; always stopped (SIGINT, then killed if it lingers)."""
    folder = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLA_")}
    env.update(
        MLA_DATABASE_URL=fuzz_database_url,
        MLA_REDIS_URL=servers.redis_url,
        MLA_SECRET_KEY=settings.secret_key,
        MLA_AUDIT_KEYS=settings.audit_keys,
        MLA_QUEUE_NAME=f"mla:fuzz:{uuid.uuid4().hex[:8]}",  # no worker takes what the fuzzer enqueues
        MLA_REDIS_KEY_PREFIX=f"mla:fuzz:{uuid.uuid4().hex[:8]}",  # its failed log-ins count for itself
        MLA_DATA_DIR=str(folder / "data"),
        PYTHONUNBUFFERED="1",
    )
    running = Server(f"http://127.0.0.1:{port}", folder / "server.log")
    with running.log.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mla", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_ready(process, running)
            yield running
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_until_ready(process: subprocess.Popen[bytes], running: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mla serve exited with {process.returncode}:\n{running.log_tail()}")
        try:
            if httpx.get(f"{running.url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"mla serve was not ready within {STARTUP_TIMEOUT} s:\n{running.log_tail()}")


@pytest.fixture(scope="module")
async def fuzz_fixtures(server: Server, fuzz_database_url: str) -> AsyncIterator[Fixtures]:
    """An organisation (one user per role) under a central authority, with a case, a request, a production."""
    engine = create_engine(fuzz_database_url, null_pool=True)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=CALL_TIMEOUT) as client:
            world = World(client, create_sessionmaker(engine, TEST_KEYRING), FixedClock(datetime.now(UTC)))
            authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
            org = await world.organisation(central_authority=authority)
            target = await world.counterparty()
            case = await world.case(org)
            # Evidence is recorded only on a request that was transmitted.
            request = await world.walk_to_transmitted(org, authority, await world.request(org, case, target))
            production = await client.post(
                f"/api/v1/requests/{request['id']}/productions",
                json={
                    "received_at": datetime.now(UTC).isoformat(),
                    "description": "Account export delivered through the provider's portal",
                    "size_bytes": 1024,
                    "sha256": "ab" * 32,
                    "format": "application/zip",
                },
                headers=org.headers(),
            )
            assert production.status_code == 201, production.text
            webhook = await client.post(
                "/api/v1/admin/webhooks",
                json={"organisation_id": str(org.id), "url": "https://alerts.example.org/mla", "secret": "s" * 32},
                headers=org.headers(Role.ADMIN),
            )
            assert webhook.status_code == 201, webhook.text
            subject = org.members[Role.AUDITOR]
            async with world.sessionmaker() as session:
                subject_token = await session.scalar(select(ApiToken.id).where(ApiToken.user_id == subject.id))
        yield Fixtures(
            admin=org.members[Role.ADMIN].token,
            platform_admin=org.members[Role.PLATFORM_ADMIN].token,
            prosecutor=org.members[Role.PROSECUTOR].token,
            central_authority=authority.members[Role.CENTRAL_AUTHORITY].token,
            logout=org.members[Role.SUPERVISOR].token,
            ids={
                "user_id": [str(subject.id)],
                "token_id": [str(subject_token)],
                "case_id": [case["id"]],
                "request_id": [request["id"]],
                "counterparty_id": [str(target)],
                "production_id": [production.json()["id"]],
                "webhook_id": [webhook.json()["id"]],
                "action": [action.value for action in Action],
                "check_code": sorted(REGISTRY),
                "instrument_code": sorted(entry.code for entry in CATALOGUE),
                "treaty_code": sorted(seed.code for seed in TREATIES),
                "country": ["DE", "IE", "DK"],
            },
        )
    finally:
        await engine.dispose()


schema = schemathesis.openapi.from_dict(create_app(DOCUMENT_SETTINGS).openapi_schema.to_schema())


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run, so CI is reproducible
    database=None,
    suppress_health_check=list(HealthCheck),  # a 2-core machine running a real server is slow
    # Generated cases only: schemathesis cannot replay the document's few property examples in a test
    # that also draws `data` (for the real ids), and the fixtures already send such values.
    phases=[Phase.generate],
)
@schema.parametrize()
@schema.given(data=st.data())
def test_every_answer_is_documented_and_none_is_a_server_error(
    case: schemathesis.Case, data: st.DataObject, server: Server, fuzz_fixtures: Fixtures
) -> None:
    path = case.operation.path
    # Each path parameter: what schemathesis drew, or one of the real values of its kind.
    for name, value in (case.path_parameters or {}).items():
        case.path_parameters[name] = data.draw(st.sampled_from([value, *fuzz_fixtures.real_values(path, name)]))
    headers = {"Authorization": f"Bearer {fuzz_fixtures.token_for(path)}"}
    offset = server.log.stat().st_size
    try:
        case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS, timeout=CALL_TIMEOUT)
    except FailureGroup as failures:  # a BaseExceptionGroup
        # On the failures inside the group: the schemathesis plugin clears the group's own notes.
        for failure in failures.exceptions:
            failure.add_note(f"The server logged:\n{server.errors_since(offset)}")
        raise
