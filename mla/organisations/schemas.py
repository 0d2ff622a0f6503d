import uuid
from datetime import datetime

import msgspec

from mla.enums import OrganisationKind
from mla.fields import ShortText, at_field, check_country, check_timezone


class OrganisationCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: ShortText
    kind: OrganisationKind
    country: str
    timezone: str
    central_authority_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        with at_field("country"):
            self.country = check_country(self.country)
        with at_field("timezone"):
            self.timezone = check_timezone(self.timezone)


class OrganisationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    kind: OrganisationKind
    country: str
    timezone: str
    central_authority_id: uuid.UUID | None
    created_at: datetime
