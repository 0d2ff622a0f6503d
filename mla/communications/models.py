import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, UuidPrimaryKey


class Communication(UuidPrimaryKey, Base):
    """A dated note of a letter, acknowledgement or call exchanged with the counterparty."""

    __tablename__ = "communications"

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]
    summary: Mapped[str] = mapped_column(Text)
    counterparty_reference: Mapped[str | None] = mapped_column(String(100))
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
