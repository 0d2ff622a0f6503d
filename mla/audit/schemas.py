import uuid
from datetime import datetime
from typing import Any

import msgspec

from mla.audit.chain import Head


class AuditEventOut(msgspec.Struct, kw_only=True):
    seq: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_roles: list[str]
    organisation_id: uuid.UUID | None
    action: str
    from_status: str | None
    to_status: str | None
    changes: dict[str, Any]
    checks: list[dict[str, Any]] | None
    reason: str | None
    hash: str
    prev_hash: str | None
    key_id: str | None  # the audit key the hash was made with; None for events from before keys


class CheckpointOut(msgspec.Struct, kw_only=True):
    """The chain's last signed checkpoint: how many events it counted, and when."""

    events: int
    at: datetime

    @classmethod
    def of(cls, head: Head) -> "CheckpointOut":
        return cls(events=head.events, at=datetime.fromisoformat(head.at))


class VerifyOut(msgspec.Struct, kw_only=True):
    valid: bool
    events: int
    first_broken_seq: int | None
    problem: str | None = None  # what is wrong with the first broken link, in words
    checkpoint: CheckpointOut | None = None
