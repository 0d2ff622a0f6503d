"""Guessing passwords is slow and cannot stall the API (issue 9 §4).

Failed log-ins are counted in the real Redis per account and per client address (each test sends
from addresses of its own, through `httpx.ASGITransport(client=...)`); time is the injected clock,
advanced past each back-off instead of slept. The API keeps serving while argon2 runs: a gate held
by the test keeps the argon2 threads busy while cheap requests are answered.
"""

import asyncio
import os
import random
import socket
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from mla.app import create_app, hold_resources
from mla.clock import FixedClock
from mla.enums import Role
from mla.settings import Settings
from mla.users import credentials
from mla.users.login_limits import LoginLimits, LoginThrottled
from tests.factories import Org, World, unique
from tests.users.test_auth import PASSWORD, REFUSED_LOGIN, assert_problem, create_user_with_password

TOKEN = "/api/v1/auth/token"
# The shipped limits except per address: 50 failures would take 50 argon2 verifications per test.
ADDRESS_LIMIT = 6


@pytest.fixture(scope="module")
async def limited_app(settings: Settings, clock: FixedClock) -> AsyncIterator[Litestar]:
    prefix = f"{settings.redis_key_prefix}:{unique('limits')}"
    own = msgspec.structs.replace(settings, redis_key_prefix=prefix, login_failures_per_address=ADDRESS_LIMIT)
    application = create_app(own, clock)
    async with hold_resources(application):
        yield application


@pytest.fixture
async def org(world: World) -> Org:
    return await world.organisation()


def unique_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def client_at(app: Litestar, address: str) -> httpx.AsyncClient:
    """A client whose requests come from `address`."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://mla.test"
    )


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(TOKEN, json={"email": email, "password": password})


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def retry_after(response: httpx.Response) -> int:
    problem = assert_problem(response, 429)
    assert str(response.headers["retry-after"]) in problem["detail"]
    return int(response.headers["retry-after"])


async def test_three_hundred_wrong_passwords_meet_a_lockout_that_the_right_password_cannot_pass(
    world: World, org: Org, limited_app: Litestar, clock: FixedClock, settings: Settings
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    async with client_at(limited_app, unique_address()) as attacker, client_at(limited_app, unique_address()) as owner:
        answers = [await log_in(attacker, user["email"], f"guess number {n}") for n in range(300)]
        allowed = settings.login_failures_per_account
        assert [a.status_code for a in answers[:allowed]] == [401] * allowed
        assert {a.status_code for a in answers[allowed:]} == {429}
        assert {retry_after(a) for a in answers[allowed:]} == {settings.login_backoff_seconds}

        # Locked out is locked out: the right password, from anywhere, is refused too.
        assert retry_after(await log_in(attacker, user["email"])) == settings.login_backoff_seconds
        assert retry_after(await log_in(owner, user["email"])) == settings.login_backoff_seconds

        clock.advance(timedelta(seconds=settings.login_backoff_seconds - 1))
        assert retry_after(await log_in(owner, user["email"])) == 1
        clock.advance(timedelta(seconds=1))
        assert (await log_in(owner, user["email"])).status_code == 200


async def test_a_refused_log_in_is_answered_after_the_refusal_pause_and_an_admitted_one_at_once(
    settings: Settings, clock: FixedClock
) -> None:
    # A client guessing in a loop then gets a few answers a second, not thousands (bench line
    # "list beside guessing"); the pause is injected and recorded here, never slept.
    paused: list[float] = []

    async def record(seconds: float) -> None:
        paused.append(seconds)

    own = msgspec.structs.replace(
        settings, redis_key_prefix=unique("pause"), login_failures_per_account=2, login_refusal_pause_seconds=1.5
    )
    limits = LoginLimits.connect(own, clock, pause=record)
    try:
        for _ in range(2):
            await limits.admit("guessed@example.org", "10.9.9.9")
        assert paused == []
        with pytest.raises(LoginThrottled):
            await limits.admit("guessed@example.org", "10.9.9.9")
        assert paused == [1.5]
        # Less than the pause left to wait: the answer comes when the lockout ends, not later.
        clock.advance(timedelta(seconds=own.login_backoff_seconds - 1))
        with pytest.raises(LoginThrottled):
            await limits.admit("guessed@example.org", "10.9.9.9")
        assert paused == [1.5, 1.0]
    finally:
        await limits.close()


async def test_an_unknown_email_is_locked_out_exactly_like_a_known_one(
    world: World, org: Org, limited_app: Litestar, settings: Settings
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    nobody = f"{unique('nobody')}@example.org"
    allowed = settings.login_failures_per_account

    async def answers(email: str) -> list[tuple[int, str, str | None]]:
        async with client_at(limited_app, unique_address()) as client:
            sent = [await log_in(client, email, "not the password") for _ in range(allowed + 1)]
        return [(a.status_code, a.json()["detail"], a.headers.get("retry-after")) for a in sent]

    known, unknown = await answers(user["email"]), await answers(nobody)

    assert known == unknown
    assert [status for status, *_ in known] == [401] * allowed + [429]
    assert known[0][1] == REFUSED_LOGIN


async def test_the_back_off_doubles_with_each_further_failure_up_to_its_maximum_then_the_window_forgets(
    world: World, org: Org, limited_app: Litestar, clock: FixedClock, settings: Settings
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    waits = []
    async with client_at(limited_app, unique_address()) as client:
        for _ in range(settings.login_failures_per_account):
            assert (await log_in(client, user["email"], "wrong")).status_code == 401
        for _ in range(7):
            waits.append(retry_after(await log_in(client, user["email"], "wrong")))
            clock.advance(timedelta(seconds=waits[-1]))
            assert (await log_in(client, user["email"], "wrong")).status_code == 401  # one more guess is let through

        assert waits == [30, 60, 120, 240, 480, 900, 900]
        assert retry_after(await log_in(client, user["email"])) == 900

        # The sliding window: an hour after the last failure, all of them are forgotten.
        clock.advance(timedelta(seconds=settings.login_window_seconds))
        assert (await log_in(client, user["email"], "wrong")).status_code == 401
        assert (await log_in(client, user["email"])).status_code == 200


async def test_one_address_guessing_many_accounts_is_locked_out_whatever_the_account(
    world: World, org: Org, limited_app: Litestar, clock: FixedClock, settings: Settings
) -> None:
    own_account = await create_user_with_password(world, org, ["prosecutor"])
    victim = await create_user_with_password(world, org, ["prosecutor"])
    spraying = unique_address()
    async with client_at(limited_app, spraying) as attacker, client_at(limited_app, unique_address()) as elsewhere:
        for _ in range(ADDRESS_LIMIT - 1):
            assert (await log_in(attacker, f"{unique('guess')}@example.org", PASSWORD)).status_code == 401
        # Logging into an account of one's own resets that account's count, not the address's.
        assert (await log_in(attacker, own_account["email"])).status_code == 200
        assert (await log_in(attacker, f"{unique('guess')}@example.org", PASSWORD)).status_code == 401

        assert retry_after(await log_in(attacker, victim["email"])) == settings.login_backoff_seconds
        assert retry_after(await log_in(attacker, own_account["email"])) == settings.login_backoff_seconds
        # The accounts themselves are not locked: their owners log in from elsewhere.
        assert (await log_in(elsewhere, victim["email"])).status_code == 200

        clock.advance(timedelta(seconds=settings.login_backoff_seconds))
        assert (await log_in(attacker, victim["email"])).status_code == 200


async def test_a_successful_log_in_resets_the_accounts_failures(
    world: World, org: Org, limited_app: Litestar, settings: Settings
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    almost = settings.login_failures_per_account - 1
    # Two addresses, so that the per-address limit (which a success does not reset) stays out of it.
    async with client_at(limited_app, unique_address()) as first, client_at(limited_app, unique_address()) as second:
        for client in (first, second):
            for _ in range(almost):
                assert (await log_in(client, user["email"], "wrong")).status_code == 401
            assert (await log_in(client, user["email"])).status_code == 200

        # Without the reset these would be failures 2 × almost + 1 and beyond: locked out.
        assert (await log_in(second, user["email"], "wrong")).status_code == 401
        assert (await log_in(second, user["email"])).status_code == 200


async def test_with_redis_down_logging_in_is_a_503_and_everything_else_answers(
    world: World, org: Org, settings: Settings, clock: FixedClock
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    no_redis = msgspec.structs.replace(settings, redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    application = create_app(no_redis, clock)
    async with hold_resources(application), client_at(application, unique_address()) as client:
        refused = await log_in(client, user["email"])
        live = await client.get("/health/live")
        listed = await client.get("/api/v1/requests", headers=org.headers(Role.PROSECUTOR))

    assert_problem(refused, 503)
    assert int(refused.headers["retry-after"]) > 0
    assert "access_token" not in refused.text
    assert live.status_code == 200
    assert listed.status_code == 200, listed.text


class ArgonGate:
    """Wraps the argon2 hasher: each verification waits until the test opens the gate."""

    def __init__(self, hasher: Any, busy_threads: int) -> None:
        self._hasher = hasher
        self._busy_threads = busy_threads
        self._lock = threading.Lock()
        self.running = 0
        self.calls = 0
        self.threads_busy = threading.Event()
        self.opened = threading.Event()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.running += 1
            self.calls += 1
            if self.running == self._busy_threads:
                self.threads_busy.set()
        try:
            self.opened.wait(timeout=10)  # bounded: on the event loop (the old code) this would block it
            return self._hasher.verify(password_hash, password)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def argon_gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[ArgonGate]:
    gate = ArgonGate(credentials._hasher, credentials.ARGON2_THREADS)
    monkeypatch.setattr(credentials, "_hasher", gate)
    yield gate
    gate.opened.set()


async def test_eight_concurrent_log_ins_leave_the_api_answering_and_run_two_argon2_at_a_time(
    world: World, org: Org, app: Litestar, argon_gate: ArgonGate
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    # Eight accounts (more concurrent log-ins of one account than it has free attempts would be refused).
    emails = [user["email"], *(f"{unique('someone')}@example.org" for _ in range(7))]
    async with client_at(app, unique_address()) as client:
        logins = [asyncio.create_task(log_in(client, email)) for email in emails]
        # Both argon2 threads are now inside a verification that cannot finish until the gate opens.
        assert await asyncio.to_thread(argon_gate.threads_busy.wait, 10)

        live = await client.get("/health/live")
        listed = await client.get("/api/v1/requests", headers=org.headers(Role.PROSECUTOR))

        assert live.status_code == 200
        assert listed.status_code == 200, listed.text
        assert not any(login.done() for login in logins)
        assert argon_gate.running == credentials.ARGON2_THREADS  # the other six wait their turn
        argon_gate.opened.set()
        answers = await asyncio.gather(*logins)

    assert [answer.status_code for answer in answers] == [200] + [401] * 7
    assert argon_gate.calls == 8


async def test_no_database_connection_is_held_while_a_password_is_verified(
    app: Litestar, argon_gate: ArgonGate
) -> None:
    async with client_at(app, unique_address()) as client:
        emails = [f"{unique('someone')}@example.org" for _ in range(credentials.ARGON2_THREADS)]
        logins = [asyncio.create_task(log_in(client, email)) for email in emails]
        assert await asyncio.to_thread(argon_gate.threads_busy.wait, 10)
        held = app.state.engine.pool.checkedout()
        argon_gate.opened.set()
        await asyncio.gather(*logins)

    assert held == 0  # a flood of log-ins waiting for argon2 cannot drain the pool other requests need


async def test_an_unknown_email_costs_an_argon2_verification_like_a_wrong_password(
    world: World, org: Org, app: Litestar, argon_gate: ArgonGate
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    argon_gate.opened.set()
    async with client_at(app, unique_address()) as client:
        wrong = await log_in(client, user["email"], "not the password")
        unknown = await log_in(client, f"{unique('nobody')}@example.org")

    assert wrong.status_code == unknown.status_code == 401
    assert argon_gate.calls == 2


async def test_concurrent_guesses_cannot_overshoot_the_limit(
    world: World, org: Org, limited_app: Litestar, argon_gate: ArgonGate, settings: Settings
) -> None:
    user = await create_user_with_password(world, org, ["prosecutor"])
    allowed, sent = settings.login_failures_per_account, 12
    async with client_at(limited_app, unique_address()) as attacker:
        guesses = [asyncio.create_task(log_in(attacker, user["email"], f"guess {n}")) for n in range(sent)]
        # While argon2 is held, only refusals can finish: every guess beyond the limit is one.
        finishing = asyncio.as_completed(guesses, timeout=30)
        refused = [await next(finishing) for _ in range(sent - allowed)]
        argon_gate.opened.set()
        answers = await asyncio.gather(*guesses)

    assert {answer.status_code for answer in refused} == {429}
    assert sorted(answer.status_code for answer in answers) == [401] * allowed + [429] * (sent - allowed)
    assert argon_gate.calls == allowed


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread niceness is Linux's")
async def test_argon2_runs_at_a_lower_priority_than_the_event_loop() -> None:
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    in_argon2_thread = await asyncio.get_running_loop().run_in_executor(credentials._argon2_threads, niceness)

    assert in_argon2_thread == min(19, niceness() + credentials.ARGON2_NICENESS)
