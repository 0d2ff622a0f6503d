import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, Identity, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base


class AuditEvent(Base):
    """One link of an append-only, hash-chained audit trail (SPEC §8).

    Each chain (a request's, a case's, or an organisation's administrative one) numbers its events
    from 1; `hash` is the HMAC-SHA256, under the key named by `key_id` (kept outside the database),
    of the event's canonical content and `prev_hash` (mla.audit.chain). Events written before keys
    existed have no `key_id` and an unkeyed SHA-256. A trigger refuses UPDATE, DELETE and TRUNCATE
    (see the migration) and the runtime database role may only INSERT and SELECT.
    """

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    chain: Mapped[str] = mapped_column(String(80))
    seq: Mapped[int]
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None]
    actor_roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    organisation_id: Mapped[uuid.UUID | None]
    request_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    case_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    checks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(32))
