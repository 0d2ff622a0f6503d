import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, UuidPrimaryKey


class Production(UuidPrimaryKey, Base):
    """Evidence received for a request: metadata and hash only, never the evidence itself."""

    __tablename__ = "productions"

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("requests.id"), index=True)
    received_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(100))
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    # The earlier production of this request with the same SHA-256: the same evidence recorded twice.
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("productions.id"))


class CustodyEvent(UuidPrimaryKey, Base):
    """One link in a production's chain of custody, appended after receipt.

    `at` is when it happened, as stated; `created_at` (answered as `recorded_at`) is when it was
    recorded, so an entry written long after the fact shows as backfilled.
    """

    __tablename__ = "custody_events"

    production_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("productions.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    holder: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]

    @property
    def recorded_at(self) -> datetime:
        return self.created_at
