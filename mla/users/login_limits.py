"""Failed log-ins, counted per account and per client address in Redis, with a growing back-off.

A log-in is `admit`ted before its password is verified, and counts as a failure from then on
unless it is reported `succeeded`. Admission and counting are one atomic step (a Lua script), so
concurrent guesses cannot overshoot the limit, and a refused caller costs one Redis round trip,
never an argon2 hash. A success forgets the account's failures, but for the address only its own
attempt: logging into an account of one's own must not clear the count of an address that is
guessing other people's passwords. A log-in interrupted mid-way (a crash) stays counted.

Each count is a sorted set of attempt instants (the injected clock) trimmed to a sliding window.
With `n` attempts in the window of which `allowed` are free, the caller is locked out until the
last attempt + min(backoff × 2^(n − allowed), max backoff). Attempts refused while locked out are
not counted (no password was tried), so the back-off grows with each guess actually made. A refusal
is answered after a short pause (`login_refusal_pause_seconds`), so a client guessing in a loop gets
a few answers a second instead of taking the API's processors from everyone else.

When Redis does not answer, the limits cannot be applied and log-ins are refused
(`LoginLimitsUnavailable`, a 503) rather than let guessing run unlimited; access tokens already
issued and API tokens keep working, and every other route answers as usual.
"""

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
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


# KEYS: the account's and the address's sorted sets. ARGV: now, window, backoff, max backoff,
# free attempts per account, per address, this attempt's member, seconds to keep the sets.
# Returns "0" when the attempt was admitted (and counted in both sets), else the seconds to wait.
_ADMIT = """
local now = tonumber(ARGV[1])
local wait = 0
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. (now - tonumber(ARGV[2])))
  local attempts = redis.call('ZCARD', KEYS[i])
  local allowed = tonumber(ARGV[4 + i])
  if attempts >= allowed then
    local last = tonumber(redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')[2])
    local lockout = math.min(tonumber(ARGV[3]) * 2 ^ math.min(attempts - allowed, 32), tonumber(ARGV[4]))
    wait = math.max(wait, last + lockout - now)
  end
end
if wait > 0 then
  return tostring(wait)
end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], now, ARGV[7])
  redis.call('EXPIRE', KEYS[i], ARGV[8])
end
return '0'
"""


@dataclass(frozen=True)
class LoginAttempt:
    """An admitted attempt, counted as a failure until reported `succeeded`."""

    account_key: str
    address_key: str
    member: str


Pause = Callable[[float], Awaitable[None]]


class LoginLimits:
    def __init__(self, redis: Redis, settings: Settings, clock: Clock, pause: Pause = asyncio.sleep) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self._pause = pause
        self._admit = redis.register_script(_ADMIT)

    @classmethod
    def connect(cls, settings: Settings, clock: Clock, pause: Pause = asyncio.sleep) -> "LoginLimits":
        """A client of its own with short timeouts (built without connecting)."""
        pool = ConnectionPool.from_url(
            settings.redis_url or "", socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        return cls(Redis(connection_pool=pool), settings, clock, pause)

    async def close(self) -> None:
        await self._redis.aclose()

    async def admit(self, email: str, address: str) -> LoginAttempt:
        """Count an attempt for `email` from `address`; refuse (LoginThrottled, after the refusal pause)
        while either is locked out."""
        settings = self._settings
        now = self._clock.now().timestamp()
        attempt = LoginAttempt(self._account_key(email), f"{self._prefix}:address:{address}", secrets.token_hex(8))
        keep_for = max(settings.login_window_seconds, settings.login_backoff_max_seconds) + 1
        arguments = [
            now,
            settings.login_window_seconds,
            settings.login_backoff_seconds,
            settings.login_backoff_max_seconds,
            settings.login_failures_per_account,
            settings.login_failures_per_address,
            attempt.member,
            keep_for,
        ]
        async with self._redis_errors():
            wait = float(await self._admit(keys=[attempt.account_key, attempt.address_key], args=arguments))
        if wait > 0:
            await self._pause(min(settings.login_refusal_pause_seconds, wait))
            raise LoginThrottled(math.ceil(round(wait, 3)))  # not 31 s for 30 s and a rounding error
        return attempt

    async def succeeded(self, attempt: LoginAttempt) -> None:
        """The password was right: forget the account's failures, and this attempt for the address."""
        async with self._redis_errors():
            await (
                self._redis.pipeline(transaction=False)
                .delete(attempt.account_key)
                .zrem(attempt.address_key, attempt.member)
                .execute()
            )

    @property
    def _prefix(self) -> str:
        return f"{self._settings.redis_key_prefix}:login-attempts"

    def _account_key(self, email: str) -> str:
        # Keyed digest: the e-mail (personal data) is not readable from Redis.
        digest = hmac.new(self._settings.secret_key.encode(), email.encode(), hashlib.sha256).hexdigest()
        return f"{self._prefix}:account:{digest[:32]}"

    @asynccontextmanager
    async def _redis_errors(self) -> AsyncIterator[None]:
        try:
            yield
        except (RedisError, OSError) as exc:
            log.warning("log-in limits unavailable: %s", type(exc).__name__)
            raise LoginLimitsUnavailable from exc
