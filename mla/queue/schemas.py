import uuid
from datetime import datetime
from enum import StrEnum

import msgspec

from mla.enums import Direction, RequestStatus, RequestType, Urgency


class QueueBucket(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    NEW = "new"
    MINE = "mine"
    UNASSIGNED = "unassigned"


class QueueOrder(StrEnum):
    PRIORITY = "priority"  # emergencies first, then the earliest running deadline
    DUE = "due"  # the earliest running deadline first, whatever the urgency


class NextDeadline(msgspec.Struct, kw_only=True):
    """The running clock the request is queued by: its earliest open, unpaused deadline."""

    id: uuid.UUID
    kind: str
    rule: str
    due_at: datetime


class QueueItem(msgspec.Struct, kw_only=True):
    """A request as the triage list shows it: the fields of `RequestOut` a triage needs, not its
    statements, with the names a triage reads (no further call needed)."""

    id: uuid.UUID
    reference: str
    case_id: uuid.UUID
    case_reference: str
    organisation_id: uuid.UUID
    owner_name: str  # the owning (requesting or recording) organisation
    central_authority_id: uuid.UUID | None
    direction: Direction
    type: RequestType
    target_id: uuid.UUID
    target_name: str
    instrument: str
    urgency: Urgency
    status: RequestStatus
    assignee_id: uuid.UUID | None
    assignee_name: str | None
    priority: int
    counterparty_references: list[str]
    postponed_until: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    next_due_at: datetime | None
    next_deadline: NextDeadline | None = None


class QueueCounts(msgspec.Struct, kw_only=True):
    overdue: int
    due_soon: int
    new: int
    mine: int
    unassigned: int


class QueuePage(msgspec.Struct, kw_only=True):
    items: list[QueueItem]
    next_cursor: str | None
    counts: QueueCounts
