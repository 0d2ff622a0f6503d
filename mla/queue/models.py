import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base


class QueueCount(Base):
    """How many open requests of one central authority fall in each time-independent bucket, and
    how many were due before the mark, for one visibility scope (mla/queue/repository.py).

    Written only by the database: the `queue_counts_*` triggers on `requests` and the functions of
    migration 0a1986bb2797.
    """

    __tablename__ = "queue_counts"

    central_authority_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # "open" (not confidential), "confidential" (all confidential ones), "confidential_of" (the
    # confidential ones `user_id` created or is assigned), "assigned" (those assigned to `user_id`).
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    total: Mapped[int]
    untriaged: Mapped[int]  # the `new` bucket: under review or received, and unassigned
    unassigned: Mapped[int]
    due_before_mark: Mapped[int]  # running clock due before `queue_count_mark.counted_until`
    due_before_soon_mark: Mapped[int]  # ... before `queue_count_mark.due_soon_until`


class QueueCountMark(Base):
    """The one moment the time-dependent counts are taken at; the worker moves it forward."""

    __tablename__ = "queue_count_mark"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    counted_until: Mapped[datetime]
    due_soon_until: Mapped[datetime]
