import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, UuidPrimaryKey


class Alert(UuidPrimaryKey, Base):
    """One alert stage of one deadline, decided once: the unique key makes a second decision a no-op."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("deadline_id", "stage"),)

    deadline_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deadlines.id"))
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("requests.id"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    stage_at: Mapped[datetime]
    decided_at: Mapped[datetime]
    # A reminder whose deadline was already overdue when first seen is recorded but not sent.
    skipped: Mapped[bool] = mapped_column(default=False)


class Notification(UuidPrimaryKey, Base):
    """An in-app notification for one user."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("alert_id", "user_id"),
        Index("ix_notifications_user_keyset", "user_id", "created_at", "id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id"))
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("requests.id"))
    stage: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class Webhook(UuidPrimaryKey, Base):
    """An organisation's endpoint for signed alert deliveries; the secret signs, it is never shown."""

    __tablename__ = "webhooks"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class Delivery(UuidPrimaryKey, Base):
    """An e-mail or webhook to send for an alert (the outbox): retried with backoff until sent or failed."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel", "recipient"),
        Index(
            "ix_deliveries_to_publish",
            "next_attempt_at",
            postgresql_where=text("status = 'pending' AND published_at IS NULL"),
        ),
        Index("ix_deliveries_status_created", "status", "created_at", "id"),
    )

    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id"))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(500))
    webhook_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("webhooks.id"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
