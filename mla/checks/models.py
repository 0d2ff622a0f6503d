import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, UuidPrimaryKey


class Attestation(UuidPrimaryKey, Base):
    """A central-authority officer's judgement on a check that needs one; the latest per code counts.

    `fingerprint` hashes what the judgement was about (the fields it judged), so an edit that
    changes them leaves the attestation standing in history but no longer applying.
    """

    __tablename__ = "attestations"
    __table_args__ = (Index("ix_attestations_request_code_at", "request_id", "code", "attested_at"),)

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("requests.id"))
    code: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    attested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    attested_by_email: Mapped[str] = mapped_column(String(254))
    attested_at: Mapped[datetime]
    fingerprint: Mapped[str] = mapped_column(String(64))
