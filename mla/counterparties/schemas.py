import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from mla.enums import CounterpartyKind, DataCategory, RequestType
from mla.fields import LanguageCode, LongText, ShortText, at_field, check_country, check_timezone, default_timezone

Url = Annotated[str, msgspec.Meta(max_length=500, pattern=r"^https?://\S+$")]
RetentionDays = Annotated[int, msgspec.Meta(ge=0, le=36500)]


class CounterpartyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: CounterpartyKind
    name: ShortText
    country: str
    # The calendar its answers are counted in (with the country's holidays); default: the capital's zone.
    timezone: str | None = None
    central_authority: ShortText | None = None
    contact_24_7: ShortText | None = None
    languages: Annotated[list[LanguageCode], msgspec.Meta(max_length=20)] = []
    portal_url: Url | None = None
    request_types: Annotated[list[RequestType], msgspec.Meta(max_length=len(RequestType))] = []
    retention_days: dict[DataCategory, RetentionDays] = {}
    emergency_policy: LongText | None = None
    death_penalty: bool = False
    requires_dual_criminality: bool = False

    def __post_init__(self) -> None:
        with at_field("country"):
            self.country = check_country(self.country)
        with at_field("timezone"):
            self.timezone = default_timezone(self.country) if self.timezone is None else check_timezone(self.timezone)


class CounterpartyPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where the party sits: its calendar for clocks opened from now on (running ones keep theirs)."""

    timezone: str

    def __post_init__(self) -> None:
        with at_field("timezone"):
            self.timezone = check_timezone(self.timezone)


class CounterpartyOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: CounterpartyKind
    name: str
    country: str
    timezone: str
    central_authority: str | None
    contact_24_7: str | None
    languages: list[str]
    portal_url: str | None
    request_types: list[RequestType]
    retention_days: dict[str, int]
    emergency_policy: str | None
    death_penalty: bool
    requires_dual_criminality: bool
    created_at: datetime
