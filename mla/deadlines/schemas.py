import uuid
from datetime import datetime

import msgspec


class DeadlineOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    rule: str
    rule_name: str
    status: str
    started_at: datetime
    due_at: datetime
    paused_at: datetime | None
    closed_at: datetime | None
    closed_by_action: str | None
    next_alert_at: datetime | None
    explanation: str


class DeadlinePreview(msgspec.Struct, kw_only=True):
    kind: str
    rule: str
    rule_name: str
    due_at: datetime
    explanation: str
