import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, ForeignKey, Index, Sequence, String, Text, false, func, literal_column, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, UuidPrimaryKey

reference_sequence = Sequence("request_reference_seq", metadata=Base.metadata)


class Request(UuidPrimaryKey, Base):
    """A request to (outgoing) or from (incoming) a foreign state or a service provider."""

    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_owner_keyset", "organisation_id", "created_at", "id"),
        Index("ix_requests_authority_keyset", "central_authority_id", "created_at", "id"),
        Index("ix_requests_counterparty_references", "counterparty_references", postgresql_using="gin"),
        Index("ix_requests_executing_keyset", "executing_organisation_id", "created_at", "id"),
        # Search by identifier (`identifiers @> '[{"kind": ..., "value": ...}]'`): what was already asked about it.
        Index(
            "ix_requests_identifiers",
            "identifiers",
            postgresql_using="gin",
            postgresql_ops={"identifiers": "jsonb_path_ops"},
        ),
    )

    reference: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    # The requesting organisation (outgoing) or the recording one (incoming): the owner.
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    # The central authority responsible for review and transmission; it sees the request too.
    central_authority_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    # An incoming request handed to a domestic prosecution service, which then sees and executes it.
    executing_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    direction: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counterparties.id"), index=True)
    instrument: Mapped[str] = mapped_column(ForeignKey("instruments.code", onupdate="CASCADE"))
    data_categories: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    identifiers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    urgency: Mapped[str] = mapped_column(String(16))
    emergency_grounds: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list, server_default="{}")
    emergency_justification: Mapped[str | None] = mapped_column(Text)
    # Who issued or validated the order, and its reference (Reg. 2023/1543 art 4).
    issuing_judge_or_court: Mapped[str | None] = mapped_column(String(200))
    order_reference: Mapped[str | None] = mapped_column(String(200))
    # The specific treaty and article, where the instrument is a generic one (`mlat`).
    treaty_reference: Mapped[str | None] = mapped_column(String(300))
    facts: Mapped[str] = mapped_column(Text)
    link_to_offence: Mapped[str] = mapped_column(Text)
    necessity: Mapped[str] = mapped_column(Text)
    proportionality: Mapped[str] = mapped_column(Text)
    confidential: Mapped[bool] = mapped_column(default=False)
    confidentiality_reason: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), index=True)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    priority: Mapped[int] = mapped_column(default=0)
    counterparty_references: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    follow_up_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("requests.id"))
    channel_reference: Mapped[str | None] = mapped_column(String(200))
    postponed_until: Mapped[datetime | None]
    # EPOC (Reg. 2023/1543 art 8): the state whose enforcing authority was notified; None: not notified.
    notified_enforcing_state: Mapped[str | None] = mapped_column(String(2))
    # Art 4(5): issued in an emergency without the prior validation the issuer needs.
    issued_without_prior_validation: Mapped[bool] = mapped_column(default=False, server_default=false())
    transmitted_at: Mapped[datetime | None]
    # When the counterparty says it received the request (the legal start of receipt clocks).
    counterparty_received_at: Mapped[datetime | None]
    validation: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # {validated_by, validated_at, reference}
    enforcing_objection: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # {grounds, data_measure, ...}
    # Budapest art 30: traffic data disclosed while the requested state executed this art 29 request.
    traffic_disclosures: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    # Kept by the deadlines service for the central authority's queue: emergency first, then earliest due.
    urgency_rank: Mapped[int] = mapped_column(default=2, server_default="2")
    next_due_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)


# The central authority's queue (mla/queue) orders open requests by urgency, then earliest running
# due moment with requests without one last, then id. NULL reads as 'infinity' in the index and in
# the keyset comparison alike, so paging stays exact and the planner can match the expression.
queue_due_at = func.coalesce(Request.next_due_at, literal_column("'infinity'::timestamptz"))
# The central authority's queue: submitted or received requests not yet closed (drafts stay with the prosecutor).
IN_QUEUE_PREDICATE = "status NOT IN ('draft', 'fulfilled', 'refused', 'rejected', 'withdrawn', 'expired')"

Index(
    "ix_requests_queue",
    Request.central_authority_id,
    Request.urgency_rank,
    queue_due_at,
    Request.id,
    postgresql_where=text(IN_QUEUE_PREDICATE),
    # The bucket counts read these too (confidentiality included): in the index, an index-only scan.
    postgresql_include=["next_due_at", "status", "assignee_id", "confidential", "created_by"],
)

# "Mine": one officer's share of the queue, in queue order, without walking the whole authority's queue.
Index(
    "ix_requests_queue_assignee",
    Request.central_authority_id,
    Request.assignee_id,
    Request.urgency_rank,
    queue_due_at,
    Request.id,
    postgresql_where=text(IN_QUEUE_PREDICATE),
)

# The queue's counts (mla/queue/repository.py): one authority's requests whose running clock falls due
# in a short span (since the counts' mark), with who may see them.
Index(
    "ix_requests_queue_due",
    Request.central_authority_id,
    Request.next_due_at,
    postgresql_where=text(IN_QUEUE_PREDICATE),
    postgresql_include=["confidential", "created_by", "assignee_id"],
)
