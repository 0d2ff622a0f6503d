import uuid
from datetime import datetime

import msgspec

from mla.enums import OrganisationKind
from mla.fields import ShortText, check_country, check_timezone


class OrganisationCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: ShortText
    kind: OrganisationKind
    country: str
    timezone: str
    central_authority_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        self.country = check_country(self.country)
        self.timezone = check_timezone(self.timezone)


class OrganisationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    kind: OrganisationKind
    country: str
    timezone: str
    central_authority_id: uuid.UUID | None
    created_at: datetime
