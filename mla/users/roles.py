"""Who may hold and grant which roles (pure rules, tested without a database).

- `platform_admin` administers the installation and is held alone: never with a case role
  (it reads no case data) nor with `admin` (it administers no organisation's people).
- An organisation's `admin` grants and revokes every role but `platform_admin`, in its own
  organisation only, and cannot touch a platform administrator who happens to live there.
- A platform administrator creates an organisation's first `admin`, and nothing else inside it.
- `platform_admin` itself is granted only by the installation's operator (`mla users`).
"""

from collections.abc import Iterable

from mla.enums import Role
from mla.errors import Forbidden, Unprocessable

OPERATOR_ONLY = "platform_admin is granted, revoked and managed only by the installation's operator (`mla users`)."


def check_combination(roles: Iterable[str]) -> None:
    """Refuse (422) `platform_admin` together with any other role."""
    held = set(roles)
    if Role.PLATFORM_ADMIN in held and len(held) > 1:
        others = ", ".join(sorted(held - {Role.PLATFORM_ADMIN}))
        raise Unprocessable(
            f"platform_admin is held alone: it holds no case role and administers no organisation ({others}).",
            errors=[{"field": "roles", "message": "platform_admin cannot be combined with other roles"}],
        )


def check_admin_change(target_roles: Iterable[str], granted: Iterable[str] = ()) -> None:
    """An organisation's admin changes neither a platform administrator nor anyone's platform_admin (403).

    `target_roles` are the user's roles before the change, `granted` the roles being given.
    """
    if Role.PLATFORM_ADMIN in set(target_roles) | set(granted):
        raise Forbidden(OPERATOR_ONLY)


def check_first_admin(roles: Iterable[str], organisation_has_admin: bool) -> None:
    """A platform administrator may create only an organisation's first admin (403 otherwise)."""
    if set(roles) != {Role.ADMIN}:
        raise Forbidden("A platform administrator creates only an organisation's first admin (roles: [admin]).")
    if organisation_has_admin:
        raise Forbidden("This organisation already has an active admin: its users are administered by its own admins.")
