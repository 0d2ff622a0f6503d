import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from mla.fields import AwareDatetime, LongText, ShortText, at_field, check_moment

Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F]{64}$", description="64 hexadecimal characters")]
SizeBytes = Annotated[int, msgspec.Meta(ge=0, le=10**15)]


class CustodyKind(StrEnum):
    TRANSFERRED = "transferred"
    COPIED = "copied"
    ANALYSED = "analysed"
    SEALED = "sealed"
    RETURNED = "returned"
    DESTROYED = "destroyed"


class CustodyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    at: AwareDatetime
    kind: CustodyKind
    holder: ShortText
    note: LongText | None = None

    def __post_init__(self) -> None:
        with at_field("at"):
            self.at = check_moment(self.at)


class ProductionCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    received_at: AwareDatetime
    description: LongText
    size_bytes: SizeBytes
    sha256: Sha256
    format: ShortText

    def __post_init__(self) -> None:
        with at_field("received_at"):
            self.received_at = check_moment(self.received_at)
        self.sha256 = self.sha256.lower()


class CustodyOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    at: Annotated[datetime, msgspec.Meta(description="When it happened, as stated by whoever recorded it.")]
    kind: CustodyKind
    holder: str
    note: str | None
    recorded_by: uuid.UUID
    recorded_at: Annotated[
        datetime, msgspec.Meta(description="When it was recorded: far after `at`, the entry was backfilled.")
    ]


class ProductionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    request_id: uuid.UUID
    received_at: datetime
    description: str
    size_bytes: int
    sha256: str
    format: str
    recorded_by: uuid.UUID
    created_at: datetime
    duplicate_of: Annotated[
        uuid.UUID | None,
        msgspec.Meta(description="The earlier production of this request with the same SHA-256, if any: flagged."),
    ] = None
    custody: list[CustodyOut] = []
