"""Failed log-ins, counted per account and per client address in Redis, with a growing back-off.

A log-in asks `check` before it verifies a password (a locked-out caller costs one Redis round
trip, never an argon2 hash), `record_failure` after a wrong one and `reset` after a right one.
Only the account's count is reset by a success: logging into an account of one's own must not
clear the count of an address that is guessing other people's passwords.

Each count is a sorted set of failure instants (the injected clock) trimmed to a sliding window.
With `n` failures in the window of which `allowed` are free, the caller is locked out until the
last failure + min(backoff × 2^(n − allowed), max backoff). Attempts refused while locked out are
not counted (no password was tried), so the back-off grows with each guess actually made.
Attempts already past `check` when the limit is reached still run: the overshoot is at most the
number of log-ins in flight at that moment.

When Redis does not answer, the limits cannot be applied and log-ins are refused
(`LoginLimitsUnavailable`, a 503) rather than let guessing run unlimited; access tokens already
issued and API tokens keep working, and every other route answers as usual.
"""

import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

from mla.clock import Clock
from mla.settings import Settings

log = logging.getLogger("mla.users.login_limits")
# Seconds to wait for Redis before refusing the log-in: a hung Redis must not hang the API.
REDIS_TIMEOUT = 1.0
IPV6_NETWORK_BITS = 64  # one IPv6 subscriber holds a whole /64: count it as one address


class LoginThrottled(Exception):
    """Too many failed log-ins for the account or the address; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class LoginLimitsUnavailable(Exception):
    """Redis did not answer, so the failed log-ins cannot be counted."""


@dataclass(frozen=True)
class _Counter:
    scope: str  # "account" or "address", for the log
    key: str
    allowed: int


def client_address(host: str | None) -> str:
    """What the per-address limit counts: an IPv4 address, an IPv6 /64 (IPv4-mapped ones as IPv4)."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_NETWORK_BITS), strict=False))
    return str(address)


class LoginLimits:
    def __init__(self, redis: Redis, settings: Settings, clock: Clock) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock

    @classmethod
    def connect(cls, settings: Settings, clock: Clock) -> "LoginLimits":
        """A client of its own with short timeouts (built without connecting)."""
        pool = ConnectionPool.from_url(
            settings.redis_url or "", socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        return cls(Redis(connection_pool=pool), settings, clock)

    async def close(self) -> None:
        await self._redis.aclose()

    async def check(self, email: str, address: str) -> None:
        """Refuse (LoginThrottled) while the account or the address is locked out."""
        now = self._now()
        counters = self._counters(email, address)
        async with self._redis_errors():
            pipeline = self._redis.pipeline(transaction=False)
            for counter in counters:
                pipeline.zrangebyscore(counter.key, self._window_start(now), now, withscores=True)
            failures = await pipeline.execute()
        locked_until = max(
            self._locked_until(counter, [at for _, at in found])
            for counter, found in zip(counters, failures, strict=True)
        )
        if locked_until > now:
            raise LoginThrottled(math.ceil(locked_until - now))

    async def record_failure(self, email: str, address: str) -> None:
        """Count one wrong password against the account and the address."""
        now = self._now()
        counters = self._counters(email, address)
        member = f"{now}:{secrets.token_hex(4)}"  # two failures at the same instant are two
        keep_for = max(self._settings.login_window_seconds, self._settings.login_backoff_max_seconds)
        async with self._redis_errors():
            pipeline = self._redis.pipeline(transaction=False)
            for counter in counters:
                pipeline.zadd(counter.key, {member: now})
                pipeline.zremrangebyscore(counter.key, "-inf", f"({self._window_start(now)}")
                pipeline.expire(counter.key, keep_for + 1)
                pipeline.zcard(counter.key)
            answers = await pipeline.execute()
        for counter, failures in zip(counters, answers[3::4], strict=True):
            if lockout := self._lockout_seconds(counter, failures):
                fields = {"scope": counter.scope, "failures": failures, "locked_seconds": lockout, "address": address}
                log.warning("log-ins locked out per %s", counter.scope, extra={"fields": fields})

    async def reset(self, email: str) -> None:
        """A successful log-in: forget the account's failures (not the address's)."""
        async with self._redis_errors():
            await self._redis.delete(self._account_key(email))

    def _counters(self, email: str, address: str) -> list[_Counter]:
        settings = self._settings
        return [
            _Counter("account", self._account_key(email), settings.login_failures_per_account),
            _Counter("address", f"{self._prefix}:address:{address}", settings.login_failures_per_address),
        ]

    @property
    def _prefix(self) -> str:
        return f"{self._settings.redis_key_prefix}:login-failures"

    def _account_key(self, email: str) -> str:
        # Keyed digest: the e-mail (personal data) is not readable from Redis.
        digest = hmac.new(self._settings.secret_key.encode(), email.encode(), hashlib.sha256).hexdigest()
        return f"{self._prefix}:account:{digest[:32]}"

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _window_start(self, now: float) -> float:
        return now - self._settings.login_window_seconds

    def _lockout_seconds(self, counter: _Counter, failures: int) -> float:
        """How long the last of `failures` failures locks the caller out (0 while some are still free)."""
        beyond = failures - counter.allowed
        if beyond < 0:
            return 0.0
        settings = self._settings
        return min(settings.login_backoff_seconds * 2.0 ** min(beyond, 32), settings.login_backoff_max_seconds)

    def _locked_until(self, counter: _Counter, failures: list[float]) -> float:
        if not failures:
            return 0.0
        return max(failures) + self._lockout_seconds(counter, len(failures))

    @asynccontextmanager
    async def _redis_errors(self) -> AsyncIterator[None]:
        try:
            yield
        except (RedisError, OSError) as exc:
            log.warning("log-in limits unavailable: %s", type(exc).__name__)
            raise LoginLimitsUnavailable from exc
