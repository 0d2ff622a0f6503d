import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from mla.enums import Role
from mla.fields import Email, Password, ShortText, check_email

Roles = Annotated[list[Role], msgspec.Meta(min_length=1, max_length=len(Role))]


class UserCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    name: ShortText
    organisation_id: uuid.UUID
    roles: Roles
    password: Password | None = None

    def __post_init__(self) -> None:
        self.email = check_email(self.email).lower()
        self.roles = sorted(set(self.roles))


class UserOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    email: str
    name: str
    organisation_id: uuid.UUID
    roles: list[Role]
    created_at: datetime


class TokenRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: Annotated[str, msgspec.Meta(max_length=200)]


class TokenOut(msgspec.Struct, kw_only=True):
    access_token: str
    token_type: str
    expires_at: datetime


class ApiTokenOut(msgspec.Struct, kw_only=True):
    user: UserOut
    token: str
