"""Passwords (argon2), signed access tokens (JWT, HS256) and long-lived API tokens (stored hashed)."""

import asyncio
import hashlib
import os
import secrets
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
API_TOKEN_PREFIX = "mla_"
_JWT_ALGORITHM = "HS256"
# Verifying against this keeps unknown e-mails as slow as wrong passwords.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
# argon2 costs tens of milliseconds of CPU per call. It runs in these threads (cffi releases the
# GIL), so the event loop keeps serving while passwords are checked, and no more hashes run at once
# than there are threads however many log-ins arrive: the others wait their turn, off the loop.
ARGON2_THREADS = 2
ARGON2_NICENESS = 10  # steps below the rest of the process


def _yield_the_cpu() -> None:
    """Lower the calling argon2 thread's priority (on Linux, niceness is per thread).

    Under a flood of log-ins the event loop and PostgreSQL then get the CPU first: log-ins slow
    down rather than every other request.
    """
    if sys.platform != "linux":
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + ARGON2_NICENESS))
    except OSError:  # refused (a sandbox): hashing keeps the process's priority
        pass


_argon2_threads = ThreadPoolExecutor(
    max_workers=ARGON2_THREADS, thread_name_prefix="argon2", initializer=_yield_the_cpu
)


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_argon2_threads, _hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches; a missing hash (unknown user, no password) costs the same and is False."""
    return await asyncio.get_running_loop().run_in_executor(_argon2_threads, _verify, password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_access_token(user_id: uuid.UUID, *, secret: str, now: datetime, ttl: timedelta) -> tuple[str, datetime]:
    """A signed token for `user_id` until `now + ttl`; its `jti` lets a logout revoke it before then."""
    expires_at = now + ttl
    claims = {
        "sub": str(user_id),
        "jti": str(uuid.uuid4()),
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=_JWT_ALGORITHM), expires_at


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    token_id: uuid.UUID  # the `jti`
    expires_at: datetime


def read_access_token(token: str, *, secret: str, now: datetime) -> AccessClaims | None:
    """The claims of a valid, unexpired token; None for anything else (a token without `jti` included)."""
    try:
        # Time is judged by the injected clock below, never by PyJWT's own reading of the system clock.
        options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}
        claims = jwt.decode(token, secret, algorithms=[_JWT_ALGORITHM], options=options)
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        if expires_at <= now:
            return None
        return AccessClaims(uuid.UUID(claims["sub"]), uuid.UUID(claims["jti"]), expires_at)
    except (jwt.PyJWTError, KeyError, ValueError, TypeError, OverflowError):
        return None
