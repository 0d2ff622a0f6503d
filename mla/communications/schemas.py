import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from mla.fields import AwareDatetime, LongText


class CommunicationKind(StrEnum):
    LETTER = "letter"
    ACKNOWLEDGEMENT = "acknowledgement"
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"


class CommunicationDirection(StrEnum):
    SENT = "sent"
    RECEIVED = "received"


class CommunicationCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: CommunicationKind
    direction: CommunicationDirection
    occurred_at: AwareDatetime
    summary: LongText
    counterparty_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class CommunicationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    request_id: uuid.UUID
    kind: CommunicationKind
    direction: CommunicationDirection
    occurred_at: datetime
    summary: str
    counterparty_reference: str | None
    recorded_by: uuid.UUID
    created_at: datetime
