"""An organisation's admins administer its users: create, disable, enable, change roles, reset passwords.

Every change is one audit event on the organisation's administration chain, which its admins list.
`actor=None` is the installation's operator (`mla users ...`): not scoped to an organisation.
An admin reaches only users of its own organisation; anyone else's id answers 404, as a missing one.
"""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.enums import Role
from mla.errors import Conflict, Forbidden, NotFound, Unprocessable
from mla.organisations import repository as organisations
from mla.users import repository, roles
from mla.users.credentials import hash_password
from mla.users.models import User
from mla.users.principal import Principal
from mla.users.schemas import UserCreate


def no_such_organisation() -> Unprocessable:
    """The same answer for an organisation that does not exist and one the caller does not administer."""
    return Unprocessable(
        "organisation_id names no organisation you administer.",
        errors=[{"field": "organisation_id", "message": "not found"}],
    )


async def record_user_event(
    session: AsyncSession, clock: Clock, actor: Principal | None, user: User, action: str, **changes: Any
) -> None:
    await audit.record(
        session,
        clock,
        actor,
        audit.AuditEntry(
            action=action,
            chain=audit.admin_chain(user.organisation_id),
            organisation_id=user.organisation_id,
            changes={"user_id": str(user.id), "email": user.email, **changes},
        ),
    )


async def check_may_create(session: AsyncSession, actor: Principal | None, data: UserCreate) -> None:
    """Refuses a role set held by no one (422), an organisation the actor does not administer (422,
    like a missing one), and roles beyond the actor's authority (403). Locks the organisation."""
    roles.check_combination(data.roles)
    if actor is not None and actor.has_any(Role.ADMIN) and data.organisation_id != actor.organisation_id:
        raise no_such_organisation()
    if not await organisations.lock_organisation(session, data.organisation_id):
        raise no_such_organisation()
    if actor is None:
        return
    if actor.has_any(Role.ADMIN):
        roles.check_admin_change((), data.roles)
    elif actor.has_any(Role.PLATFORM_ADMIN):
        roles.check_first_admin(data.roles, await repository.count_active_admins(session, data.organisation_id) > 0)
    else:
        raise Forbidden("Only administrators create users.")


async def administered_user(
    session: AsyncSession, actor: Principal | None, user_id: uuid.UUID, *, lock: bool = True
) -> User:
    """The user (locked for a change) if the actor administers it: 404 outside the admin's
    organisation, 403 for a platform administrator (managed only by the operator)."""
    user = await repository.user_in(session, None if actor is None else actor.organisation_id, user_id, for_update=lock)
    if user is None:
        raise NotFound("No such user.")
    if actor is not None:
        roles.check_admin_change(user.roles)
    return user


async def get_user(session: AsyncSession, actor: Principal, user_id: uuid.UUID) -> User:
    """A user of the admin's own organisation (404 otherwise)."""
    user = await repository.user_in(session, actor.organisation_id, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


async def set_active(
    session: AsyncSession, clock: Clock, actor: Principal | None, user_id: uuid.UUID, active: bool
) -> User:
    """Disable a user (their tokens are refused from the next request on) or enable them again.

    Refuses to disable the organisation's last active admin (409). Idempotent: no change, no event.
    """
    user = await administered_user(session, actor, user_id)
    if user.active == active:
        return user
    if not active and Role.ADMIN in user.roles:
        await _keep_an_admin(session, user)
    user.active = active
    await record_user_event(session, clock, actor, user, "enable_user" if active else "disable_user")
    return user


async def set_roles(
    session: AsyncSession, clock: Clock, actor: Principal | None, user_id: uuid.UUID, new_roles: list[Role]
) -> User:
    """Grant and revoke roles so the user holds exactly `new_roles`: one event naming both.

    Refuses platform_admin with another role (422), an admin touching platform_admin (403) and
    revoking admin from the organisation's last active admin (409).
    """
    roles.check_combination(new_roles)
    user = await administered_user(session, actor, user_id)
    before, after = set(user.roles), {str(role) for role in new_roles}
    granted, revoked = sorted(after - before), sorted(before - after)
    if actor is not None:
        roles.check_admin_change(before, granted)
    if not granted and not revoked:
        return user
    if Role.ADMIN in revoked and user.active:
        await _keep_an_admin(session, user)
    user.roles = sorted(after)
    await record_user_event(session, clock, actor, user, "change_roles", granted=granted, revoked=revoked)
    return user


async def reset_password(
    session: AsyncSession, clock: Clock, actor: Principal | None, user_id: uuid.UUID, password: str
) -> User:
    """Set a new password (the old one stops working); the audit event never carries either."""
    user = await administered_user(session, actor, user_id)
    user.password_hash = await hash_password(password)
    await record_user_event(session, clock, actor, user, "reset_password")
    return user


async def _keep_an_admin(session: AsyncSession, user: User) -> None:
    """Refuse (409) a change that would leave the user's organisation without an active admin."""
    await organisations.lock_organisation(session, user.organisation_id)  # serialises admin changes in the organisation
    if await repository.count_active_admins(session, user.organisation_id) <= 1:
        raise Conflict("This is the organisation's last active admin: grant admin to someone else first.")
