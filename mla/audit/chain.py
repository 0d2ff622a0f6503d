"""The keyed hash chain: canonical content of an event, its HMAC-SHA256 link, and the walk that
checks a chain against its keys and its last signed checkpoint (pure)."""

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from mla.audit.keys import AuditKeyring

HASHED_FIELDS = (
    "chain",
    "seq",
    "at",
    "actor_id",
    "actor_roles",
    "organisation_id",
    "request_id",
    "case_id",
    "action",
    "from_status",
    "to_status",
    "changes",
    "checks",
    "reason",
    "prev_hash",
)


def to_json_value(value: Any) -> Any:
    """The value as JSONB will give it back: what is hashed is exactly what is stored."""
    return msgspec.json.decode(msgspec.json.encode(value, enc_hook=_encode_extra))


def _encode_extra(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID | set | frozenset):
        return sorted(str(v) for v in value) if isinstance(value, set | frozenset) else str(value)
    raise NotImplementedError(f"cannot audit a {type(value).__name__}")


def canonical_content(event: Any, *, keyed: bool = True) -> bytes:
    """The bytes a link's hash covers: every field, `prev_hash` included, and the key id if keyed."""
    content = {name: getattr(event, name) for name in HASHED_FIELDS}
    content["at"] = content["at"].astimezone(UTC).isoformat()
    content["actor_roles"] = sorted(content["actor_roles"])
    for key in ("actor_id", "organisation_id", "request_id", "case_id"):
        content[key] = None if content[key] is None else str(content[key])
    if keyed:
        content["key_id"] = event.key_id
    return msgspec.json.encode(content, order="sorted")


def keyed_hash(event: Any, key: bytes) -> str:
    """HMAC-SHA256 under the event's key: without the key no one can compute it."""
    return hmac.new(key, canonical_content(event), hashlib.sha256).hexdigest()


def legacy_hash(event: Any) -> str:
    """The unkeyed SHA-256 of events written before keys existed (`key_id` is NULL)."""
    return hashlib.sha256(canonical_content(event, keyed=False)).hexdigest()


def seal(event: Any, keyring: AuditKeyring) -> None:
    """Key a new event with the current key."""
    event.key_id = keyring.current
    event.hash = keyed_hash(event, keyring.current_key)


@dataclass(frozen=True)
class Head:
    """A chain's head as a signed checkpoint saw it: its number of events and the last hash."""

    events: int
    hash: str
    at: str


@dataclass(frozen=True)
class ChainVerdict:
    valid: bool
    events: int
    first_broken_seq: int | None
    chain: str
    problem: str | None = None
    checkpoint: Head | None = None
    last_hash: str | None = None


class ChainWalk:
    """Checks one chain event by event, in `seq` order, and names the first broken link.

    Each event must follow the one before (`seq` and `prev_hash`) and carry the hash of its
    content under its key. An event without a key (legacy, from before keys existed) is accepted
    only before the first keyed event and only while pinned: by a keyed event after it, whose
    HMAC covers its hash, or by a signed checkpoint that covers it. Marking an event as legacy
    therefore gains an attacker nothing. Against the chain's last checkpoint, the event it signed
    must still have the signed hash and none of the events it counted may be missing.
    `seal_legacy` accepts unpinned legacy events: only the first checkpoint of a log does that.
    """

    def __init__(
        self, chain: str, keyring: AuditKeyring, checkpoint: Head | None = None, *, seal_legacy: bool = False
    ) -> None:
        self.chain = chain
        self.events = 0
        self.first_broken_seq: int | None = None
        self.problem: str | None = None
        self._keyring = keyring
        self._checkpoint = checkpoint
        self._seal_legacy = seal_legacy
        self._expected_prev: str | None = None
        self._keyed_seen = False
        self._unpinned_legacy_from: int | None = None

    def feed(self, event: Any) -> None:
        self.events += 1
        if self.first_broken_seq is None:
            self._check(event)
        self._expected_prev = event.hash

    def _check(self, event: Any) -> None:
        expected = self.events
        if event.seq != expected:
            return self._break(expected, f"event {expected} is missing")
        if event.prev_hash != self._expected_prev:
            return self._break(expected, f"event {expected} does not link to the event before it")
        if event.key_id is None:
            if self._keyed_seen:
                return self._break(expected, f"event {expected} carries no key after keyed events")
            if event.hash != legacy_hash(event):
                return self._break(expected, f"event {expected} was rewritten: its hash does not match it")
            if self._unpinned_legacy_from is None:
                self._unpinned_legacy_from = expected
        else:
            key = self._keyring.key(event.key_id)
            if key is None:
                return self._break(expected, f"event {expected} is keyed with unknown key {event.key_id!r}")
            if not hmac.compare_digest(event.hash, keyed_hash(event, key)):
                return self._break(expected, f"event {expected} was rewritten: its hash does not match it")
            self._keyed_seen = True
            self._unpinned_legacy_from = None
        checkpoint = self._checkpoint
        if checkpoint is not None and expected == checkpoint.events and event.hash != checkpoint.hash:
            return self._break(expected, f"event {expected} differs from the checkpoint signed at {checkpoint.at}")
        return None

    def _break(self, seq: int, problem: str) -> None:
        self.first_broken_seq = seq
        self.problem = problem

    def verdict(self) -> ChainVerdict:
        """The outcome once every event has been fed: truncation and unpinned legacy events show only now."""
        checkpoint = self._checkpoint
        signed = 0 if checkpoint is None else checkpoint.events
        if self.first_broken_seq is None and checkpoint is not None and self.events < signed:
            first = self.events + 1
            missing = f"event {first} is missing" if first == signed else f"events {first} to {signed} are missing"
            what = "the chain vanished" if self.events == 0 else missing
            self._break(first, f"{what}: the checkpoint signed at {checkpoint.at} counted {signed} events")
        legacy_from = self._unpinned_legacy_from
        if self.first_broken_seq is None and legacy_from is not None and not self._seal_legacy and signed < self.events:
            first = max(legacy_from, signed + 1)
            self._break(first, f"event {first} carries no key and no signed checkpoint covers it")
        return ChainVerdict(
            valid=self.first_broken_seq is None,
            events=self.events,
            first_broken_seq=self.first_broken_seq,
            chain=self.chain,
            problem=self.problem,
            checkpoint=checkpoint,
            last_hash=self._expected_prev,
        )
