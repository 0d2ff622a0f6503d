import uuid
from datetime import datetime
from typing import Any

import msgspec


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


class VerifyOut(msgspec.Struct, kw_only=True):
    valid: bool
    events: int
    first_broken_seq: int | None
