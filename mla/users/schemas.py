import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from mla.enums import Role
from mla.fields import Email, Password, ShortText, at_field, check_email

Roles = Annotated[list[Role], msgspec.Meta(min_length=1, max_length=len(Role))]


class UserCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    name: ShortText
    organisation_id: uuid.UUID
    roles: Roles
    password: Password | None = None

    def __post_init__(self) -> None:
        with at_field("email"):
            self.email = check_email(self.email).lower()
        self.roles = sorted(set(self.roles))


class UserOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    email: str
    name: str
    organisation_id: uuid.UUID
    roles: list[Role]
    active: bool
    created_at: datetime


class RolesUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The complete set of roles the user is to hold: those missing are granted, the others revoked."""

    roles: Roles

    def __post_init__(self) -> None:
        self.roles = sorted(set(self.roles))


class PasswordReset(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    password: Password

    def __repr__(self) -> str:  # never print the password
        return "PasswordReset(password=***)"


class TokenRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # No NUL: the e-mail is looked up in PostgreSQL, which cannot hold U+0000 (a 500, not a 401).
    email: Annotated[str, msgspec.Meta(max_length=254, pattern=r"\A[^\x00]*\Z")]
    password: Annotated[str, msgspec.Meta(max_length=200)]


class TokenOut(msgspec.Struct, kw_only=True):
    access_token: str
    token_type: str
    expires_at: datetime


TokenDays = Annotated[
    int, msgspec.Meta(ge=1, le=366, description="Days until the token expires (default: the installation's setting).")
]


class ApiTokenCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    label: ShortText
    days: TokenDays | None = None


class ApiTokenRenewal(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    days: TokenDays | None = None


class ApiTokenOut(msgspec.Struct, kw_only=True):
    """An API token's record; the token itself is shown once, when it is issued."""

    id: uuid.UUID
    user_id: uuid.UUID
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class IssuedApiTokenOut(ApiTokenOut, kw_only=True):
    token: str
