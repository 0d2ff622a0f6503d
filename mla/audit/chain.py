"""The hash chain: canonical content of an event and the SHA-256 link over it (pure)."""

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

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


def canonical_content(event: Any) -> bytes:
    content = {name: getattr(event, name) for name in HASHED_FIELDS}
    content["at"] = content["at"].astimezone(UTC).isoformat()
    content["actor_roles"] = sorted(content["actor_roles"])
    for key in ("actor_id", "organisation_id", "request_id", "case_id"):
        content[key] = None if content[key] is None else str(content[key])
    return msgspec.json.encode(content, order="sorted")


def event_hash(event: Any) -> str:
    return hashlib.sha256(canonical_content(event)).hexdigest()


class ChainWalk:
    """Checks one chain event by event, in `seq` order, remembering the first broken link."""

    def __init__(self, chain: str) -> None:
        self.chain = chain
        self.events = 0
        self.first_broken_seq: int | None = None
        self._expected_prev: str | None = None

    def feed(self, event: Any) -> None:
        self.events += 1
        if self.first_broken_seq is not None:
            return
        intact = event.seq == self.events and event.prev_hash == self._expected_prev and event.hash == event_hash(event)
        if not intact:
            self.first_broken_seq = event.seq
        self._expected_prev = event.hash
