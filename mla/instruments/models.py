from datetime import datetime

from sqlalchemy import ARRAY, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, UuidPrimaryKey


class Instrument(UuidPrimaryKey, Base):
    """A legal basis a request may rest on (SPEC §4, §11)."""

    __tablename__ = "instruments"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    citation: Mapped[str] = mapped_column(Text)
    request_types: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    directions: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    target_kinds: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    data_categories: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    requires_dual_criminality: Mapped[bool] = mapped_column(default=False)
    preservation_days: Mapped[int | None]
    extension_days: Mapped[int | None]
    # How many times the preservation may be extended, by at most `extension_days` each; None: no cap.
    max_extensions: Mapped[int | None]
    # False where the articles or periods could not be checked against the legal text.
    source_verified: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
