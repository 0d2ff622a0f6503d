import uuid

import msgspec

from mla.enums import Role


class Principal(msgspec.Struct, frozen=True):
    """Who is acting: the authenticated user, their organisation and roles."""

    user_id: uuid.UUID
    organisation_id: uuid.UUID
    roles: frozenset[str]
    email: str

    def has_any(self, *roles: Role | str) -> bool:
        return not self.roles.isdisjoint(roles)
