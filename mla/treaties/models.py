import uuid
from datetime import date, datetime

from sqlalchemy import ARRAY, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, UuidPrimaryKey


class Treaty(UuidPrimaryKey, Base):
    """A treaty or EU act that instruments of the catalogue rest on, and whose parties we track.

    `kind` says which states must be bound for a request to rest on it: `multilateral` both the
    requesting and the requested state (or the provider's state); `eu_regulation` only the issuing
    state (the act binds providers offering services in the Union wherever they are established);
    `bilateral` a treaty named per request (`treaty_reference`), confirmed by an officer.
    """

    __tablename__ = "treaties"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    instrument_codes: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class TreatyParty(UuidPrimaryKey, Base):
    """Where one state stands with one treaty: signed, ratified, in force since; with its source."""

    __tablename__ = "treaty_parties"
    __table_args__ = (UniqueConstraint("treaty_id", "country"),)

    treaty_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treaties.id"))
    country: Mapped[str] = mapped_column(String(2))
    signed_on: Mapped[date | None]
    ratified_on: Mapped[date | None]
    in_force_on: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    source_verified: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]
