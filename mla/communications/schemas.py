import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from mla.enums import Direction, DirectionGiven
from mla.fields import AwareDatetime, LongText, at_field, check_moment
from mla.requests.schemas import CounterpartyReference  # the same reference, NUL refused


class CommunicationKind(StrEnum):
    LETTER = "letter"
    ACKNOWLEDGEMENT = "acknowledgement"
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"


class CommunicationCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: CommunicationKind
    direction: Annotated[
        DirectionGiven,
        msgspec.Meta(
            description="`outgoing` (we sent it) or `incoming` (we received it); `sent` and `received` are "
            "accepted as the same and answered as `outgoing` and `incoming`."
        ),
    ]
    occurred_at: AwareDatetime
    summary: LongText
    counterparty_reference: CounterpartyReference | None = None

    def __post_init__(self) -> None:
        with at_field("occurred_at"):
            self.occurred_at = check_moment(self.occurred_at)


class CommunicationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    request_id: uuid.UUID
    kind: CommunicationKind
    direction: Annotated[Direction, msgspec.Meta(description="`outgoing` (we sent it) or `incoming` (we received it).")]
    occurred_at: datetime
    summary: str
    counterparty_reference: str | None
    recorded_by: uuid.UUID
    created_at: datetime
