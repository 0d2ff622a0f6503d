import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from mla.enums import CaseStatus
from mla.fields import LongText, Reference, ShortText

PenaltyYears = Annotated[float, msgspec.Meta(ge=0, le=100)]
Version = Annotated[
    int, msgspec.Meta(ge=1, description="The case's version you last read: a write based on another is a 409.")
]


class Offence(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    description: ShortText
    max_penalty_years: PenaltyYears


Offences = Annotated[list[Offence], msgspec.Meta(min_length=1, max_length=50)]


class CaseCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reference: Reference
    title: ShortText
    summary: LongText | None = None
    offences: Offences


class CasePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes to an open case; absent fields stay as they are."""

    version: Version
    reference: Reference | msgspec.UnsetType = msgspec.UNSET
    title: ShortText | msgspec.UnsetType = msgspec.UNSET
    summary: LongText | msgspec.UnsetType = msgspec.UNSET
    offences: Offences | msgspec.UnsetType = msgspec.UNSET


class CaseClose(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: Version


class CaseSummary(msgspec.Struct, kw_only=True):
    """A case as the list shows it: without its summary (up to 20,000 characters) and offences."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    reference: str
    title: str
    created_by: uuid.UUID
    created_at: datetime
    version: int
    status: CaseStatus
    closed_at: datetime | None


class CaseOut(CaseSummary, kw_only=True):
    summary: str
    offences: list[Offence]
