import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from mla.fields import LongText, Reference, ShortText

PenaltyYears = Annotated[float, msgspec.Meta(ge=0, le=100)]


class Offence(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    description: ShortText
    max_penalty_years: PenaltyYears


class CaseCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reference: Reference
    title: ShortText
    summary: LongText | None = None
    offences: Annotated[list[Offence], msgspec.Meta(min_length=1, max_length=50)]


class CaseSummary(msgspec.Struct, kw_only=True):
    """A case as the list shows it: without its summary (up to 20,000 characters) and offences."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    reference: str
    title: str
    created_by: uuid.UUID
    created_at: datetime
    version: int


class CaseOut(CaseSummary, kw_only=True):
    summary: str
    offences: list[Offence]
