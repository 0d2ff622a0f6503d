import uuid
from datetime import datetime

import msgspec

from mla.enums import Role


class Credential(msgspec.Struct, frozen=True):
    """The bearer token a request came with: an API token (by its row id) or an access token (by its `jti`)."""

    kind: str  # API_TOKEN or ACCESS_TOKEN
    id: uuid.UUID
    expires_at: datetime


API_TOKEN = "api_token"
ACCESS_TOKEN = "access_token"


class Principal(msgspec.Struct, frozen=True):
    """Who is acting: the authenticated user, their organisation and roles (and the token they used)."""

    user_id: uuid.UUID
    organisation_id: uuid.UUID
    roles: frozenset[str]
    email: str
    credential: Credential | None = None

    def has_any(self, *roles: Role | str) -> bool:
        return not self.roles.isdisjoint(roles)
