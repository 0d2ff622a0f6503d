"""The audit trail's secrets, all kept outside the database: the chain's HMAC keys and the
checkpoint signer's Ed25519 key. Nothing here is ever printed, logged or stored in PostgreSQL."""

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mla.settings import Settings

KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MIN_SECRET_CHARS = 32


class AuditKeyring:
    """The chain's HMAC keys by id, and the id new events are keyed with."""

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"the current audit key {current!r} is not among MLA_AUDIT_KEYS")
        self._keys = dict(keys)
        self.current = current

    def key(self, key_id: str) -> bytes | None:
        return self._keys.get(key_id)

    @property
    def current_key(self) -> bytes:
        return self._keys[self.current]

    def __repr__(self) -> str:  # ids only, never a secret
        return f"AuditKeyring(ids={sorted(self._keys)}, current={self.current!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> "AuditKeyring":
        """Parse `MLA_AUDIT_KEYS` ("id:secret,id:secret"); refuses a missing, short or duplicate key."""
        keys: dict[str, bytes] = {}
        for item in filter(None, (part.strip() for part in settings.audit_keys.split(","))):
            key_id, _, secret = item.partition(":")
            if not KEY_ID.fullmatch(key_id) or len(secret) < MIN_SECRET_CHARS or key_id in keys:
                raise ValueError(
                    f"MLA_AUDIT_KEYS: each key is id:secret, the id 1-32 of [A-Za-z0-9_.-] and unique, "
                    f"the secret at least {MIN_SECRET_CHARS} characters (bad entry {key_id!r})"
                )
            keys[key_id] = secret.encode()
        if not keys:
            raise ValueError("set MLA_AUDIT_KEYS (id:secret) to key the audit chain (README: audit keys)")
        if not settings.audit_current_key and len(keys) > 1:
            raise ValueError("MLA_AUDIT_KEYS holds several keys: name the one to use in MLA_AUDIT_CURRENT_KEY")
        return cls(keys, settings.audit_current_key or next(iter(keys)))


def new_audit_key(key_id: str) -> str:
    """A fresh `id:secret` entry for MLA_AUDIT_KEYS."""
    return f"{key_id}:{secrets.token_urlsafe(48)}"


def new_signing_key() -> str:
    """A fresh Ed25519 private key, base64, for MLA_CHECKPOINT_SIGNING_KEY."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _decode(value: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"{what} is not base64") from exc
    if len(raw) != 32:
        raise ValueError(f"{what} must be 32 bytes (base64)")
    return raw


def public_key_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def fingerprint(key: Ed25519PublicKey) -> str:
    """A short name for a public key, written into each checkpoint so the verifier can pick it."""
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


class CheckpointSigner:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.fingerprint = fingerprint(self.public_key)

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self._key.sign(payload)).decode()

    def __repr__(self) -> str:
        return f"CheckpointSigner(fingerprint={self.fingerprint!r})"


class CheckpointVerifier:
    """The trusted public keys by fingerprint: a verifier needs nothing secret."""

    def __init__(self, keys: list[Ed25519PublicKey]) -> None:
        self._keys = {fingerprint(key): key for key in keys}

    def __bool__(self) -> bool:
        return bool(self._keys)

    def verify(self, signer: str, payload: bytes, signature: str) -> bool:
        key = self._keys.get(signer)
        if key is None:
            return False
        try:
            key.verify(base64.b64decode(signature), payload)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def signer_of(private_key: str) -> CheckpointSigner:
    raw = _decode(private_key, "MLA_CHECKPOINT_SIGNING_KEY")
    return CheckpointSigner(Ed25519PrivateKey.from_private_bytes(raw))


def checkpoint_signer(settings: Settings) -> CheckpointSigner | None:
    """The signer from MLA_CHECKPOINT_SIGNING_KEY, or None when checkpoints are not configured."""
    return signer_of(settings.checkpoint_signing_key) if settings.checkpoint_signing_key else None


def checkpoint_verifier(settings: Settings) -> CheckpointVerifier:
    """Trusts MLA_CHECKPOINT_PUBLIC_KEYS and the signing key's own public key."""
    keys = [
        Ed25519PublicKey.from_public_bytes(_decode(text, "MLA_CHECKPOINT_PUBLIC_KEYS"))
        for text in filter(None, (part.strip() for part in settings.checkpoint_public_keys.split(",")))
    ]
    signer = checkpoint_signer(settings)
    if signer is not None:
        keys.append(signer.public_key)
    return CheckpointVerifier(keys)
