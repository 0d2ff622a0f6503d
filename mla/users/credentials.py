"""Passwords (argon2), signed access tokens (JWT, HS256) and long-lived API tokens (stored hashed)."""

import hashlib
import secrets
import uuid
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


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
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
