import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from mla.enums import CounterpartyKind, DataCategory, Direction, RequestType
from mla.fields import LongText, ShortText

Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,31}$", examples=["eu-epoc"])]
Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]
Extensions = Annotated[int, msgspec.Meta(ge=0, le=100)]


class InstrumentCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code
    title: ShortText
    citation: LongText
    request_types: Annotated[list[RequestType], msgspec.Meta(min_length=1)]
    directions: Annotated[list[Direction], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: [Direction.OUTGOING, Direction.INCOMING]
    )
    target_kinds: Annotated[list[CounterpartyKind], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: [CounterpartyKind.STATE]
    )
    data_categories: Annotated[list[DataCategory], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: list(DataCategory)
    )
    requires_dual_criminality: bool = False
    preservation_days: Days | None = None
    extension_days: Days | None = None
    max_extensions: Extensions | None = None  # None: no cap
    source_verified: bool = True


class InstrumentPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: ShortText | msgspec.UnsetType = msgspec.UNSET
    citation: LongText | msgspec.UnsetType = msgspec.UNSET
    request_types: Annotated[list[RequestType], msgspec.Meta(min_length=1)] | msgspec.UnsetType = msgspec.UNSET
    directions: Annotated[list[Direction], msgspec.Meta(min_length=1)] | msgspec.UnsetType = msgspec.UNSET
    target_kinds: Annotated[list[CounterpartyKind], msgspec.Meta(min_length=1)] | msgspec.UnsetType = msgspec.UNSET
    data_categories: Annotated[list[DataCategory], msgspec.Meta(min_length=1)] | msgspec.UnsetType = msgspec.UNSET
    requires_dual_criminality: bool | msgspec.UnsetType = msgspec.UNSET
    preservation_days: Days | None | msgspec.UnsetType = msgspec.UNSET
    extension_days: Days | None | msgspec.UnsetType = msgspec.UNSET
    max_extensions: Extensions | None | msgspec.UnsetType = msgspec.UNSET
    source_verified: bool | msgspec.UnsetType = msgspec.UNSET


class InstrumentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    code: str
    title: str
    citation: str
    request_types: list[RequestType]
    directions: list[Direction]
    target_kinds: list[CounterpartyKind]
    data_categories: list[DataCategory]
    requires_dual_criminality: bool
    preservation_days: int | None
    extension_days: int | None
    max_extensions: int | None
    source_verified: bool
    updated_at: datetime
