import uuid
from datetime import date, datetime
from enum import StrEnum

import msgspec

from mla.fields import LongText, at_field


class TreatyKind(StrEnum):
    MULTILATERAL = "multilateral"  # the requesting and the requested state (or the provider's) must be bound
    EU_REGULATION = "eu_regulation"  # only the issuing state must be bound
    BILATERAL = "bilateral"  # named per request; an officer confirms it is in force


class PartyInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where one state stands with a treaty, as the treaty office's chart shows it."""

    signed_on: date | None = None
    ratified_on: date | None = None
    in_force_on: date | None = None  # None: not in force for this state (not ratified, or not bound)
    notes: LongText | None = None
    source: LongText
    source_verified: bool = False

    def __post_init__(self) -> None:
        for name in ("signed_on", "ratified_on", "in_force_on"):
            value = getattr(self, name)
            if value is not None and not 1900 <= value.year <= 2999:
                with at_field(name):
                    raise ValueError("must lie between the years 1900 and 2999")


class TreatyPartyRecord(msgspec.Struct, kw_only=True):
    """A state's record under a treaty, as the checks read it."""

    country: str
    signed_on: date | None
    ratified_on: date | None
    in_force_on: date | None
    notes: str | None
    source: str
    source_verified: bool


class TreatyPartyOut(TreatyPartyRecord, kw_only=True):
    updated_at: datetime


class TreatyOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    code: str
    title: str
    kind: TreatyKind
    instrument_codes: list[str]
    source: str
    parties: list[TreatyPartyOut] = []
