import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, UuidPrimaryKey


class Organisation(UuidPrimaryKey, Base):
    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    # The central authority that reviews and transmits this organisation's outgoing requests.
    central_authority_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime]
