from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, UuidPrimaryKey


class Counterparty(UuidPrimaryKey, Base):
    """A foreign state or a service provider: shared reference data, visible to every organisation."""

    __tablename__ = "counterparties"

    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    # The calendar its answers are counted in, with the country's holidays (Reg. 1182/71 art 2(1)).
    timezone: Mapped[str] = mapped_column(String(64))
    central_authority: Mapped[str | None] = mapped_column(String(200))
    contact_24_7: Mapped[str | None] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list)
    portal_url: Mapped[str | None] = mapped_column(String(500))
    request_types: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    retention_days: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    emergency_policy: Mapped[str | None] = mapped_column(Text)
    death_penalty: Mapped[bool] = mapped_column(default=False)
    requires_dual_criminality: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
