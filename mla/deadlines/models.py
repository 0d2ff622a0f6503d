import uuid
from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, UuidPrimaryKey


class DeadlineRule(UuidPrimaryKey, Base):
    """One legal or service-level clock (SPEC §6): when it opens, what meets it, how long it runs.

    A rule applies to a request when every non-empty selector matches: instrument codes, request
    types, directions, and the data categories it needs or excludes. A duration left empty for an
    urgency means the clock does not run at that urgency; `amount_from_instrument` takes the
    instrument's preservation days instead. `applies_when` names a further condition on the request
    (mla/deadlines/service.py CONDITIONS), e.g. that the order was notified to an enforcing authority.
    """

    __tablename__ = "deadline_rules"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)
    instrument_codes: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    request_types: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    directions: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list)
    requires_category: Mapped[str | None] = mapped_column(String(32))
    excludes_category: Mapped[str | None] = mapped_column(String(32))
    opens_on: Mapped[str] = mapped_column(String(32))
    meets_on: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    routine_amount: Mapped[int | None]
    routine_unit: Mapped[str] = mapped_column(String(16))
    urgent_amount: Mapped[int | None]
    urgent_unit: Mapped[str] = mapped_column(String(16))
    emergency_amount: Mapped[int | None]
    emergency_unit: Mapped[str] = mapped_column(String(16))
    amount_from_instrument: Mapped[bool] = mapped_column(default=False)
    # Whose calendar counts, the party who must act (Reg. 1182/71 art 2(1)): "owner" (requesting
    # organisation), "central_authority", "counterparty" (provider or requested state) or
    # "enforcing_authority" (of the state the order was notified to).
    responsible: Mapped[str] = mapped_column(String(32), default="owner")
    # "legal" (Reg. 1182/71 arts 3-4: end of the last day, rolled to a working day) or "elapsed".
    counting: Mapped[str] = mapped_column(String(16), default="elapsed")
    # False where the period could not be checked against the legal text: shown with every deadline.
    source_verified: Mapped[bool] = mapped_column(default=True)
    applies_when: Mapped[str | None] = mapped_column(String(64))
    # The legal start is the counterparty's receipt: a receipt time recorded later restarts the clock from it.
    starts_at_receipt: Mapped[bool] = mapped_column(default=False)
    # Still runs after the request is fulfilled (an objection or a validation may follow the data).
    outlives_fulfilment: Mapped[bool] = mapped_column(default=False)
    # A window for the other side to act: when it passes without action, the clock is met, not overdue.
    met_when_passed: Mapped[bool] = mapped_column(default=False)
    pauses_on_clarification: Mapped[bool] = mapped_column(default=False)
    lapses_request: Mapped[bool] = mapped_column(default=False)
    recurring: Mapped[bool] = mapped_column(default=False)
    reminder_leads_hours: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Deadline(UuidPrimaryKey, Base):
    """A clock running on one request; `next_alert_at` is when its next alert stage falls due."""

    __tablename__ = "deadlines"
    __table_args__ = (
        # The alert scan reads only open, running clocks whose next stage is due: cost follows what is due.
        Index(
            "ix_deadlines_due_alerts",
            "next_alert_at",
            postgresql_where=text("status = 'open' AND paused_at IS NULL AND next_alert_at IS NOT NULL"),
        ),
        Index("ix_deadlines_request_status", "request_id", "status"),
        # The alert scan trusts the stored stages: a write that moves a deadline without
        # `mla.deadlines.service.schedule` is refused rather than left to alert at the wrong time.
        CheckConstraint(
            "next_alert_at IS NULL OR next_alert_at = ANY (alert_stage_times)", name="next_alert_is_a_stage"
        ),
        CheckConstraint(
            "cardinality(alert_stage_times) = 0 OR due_at = ANY (alert_stage_times)", name="due_is_a_stage"
        ),
    )

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("requests.id"))
    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deadline_rules.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    rule_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    window_seconds: Mapped[int]
    explanation: Mapped[str] = mapped_column(Text)
    paused_at: Mapped[datetime | None]
    next_alert_at: Mapped[datetime | None]
    fired_stages: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    # Every alert stage with its moment, in time order (mla.deadlines.stages), kept by `schedule`:
    # the alert scan decides in SQL which are due.
    alert_stages: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list, server_default="{}")
    alert_stage_times: Mapped[list[datetime]] = mapped_column(
        ARRAY(DateTime(timezone=True)), default=list, server_default="{}"
    )
    closed_at: Mapped[datetime | None]
    closed_by_action: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
