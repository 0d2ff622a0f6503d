"""Who may act on a request, beyond seeing it."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mla.enums import Role
from mla.errors import Forbidden
from mla.requests import repository
from mla.requests.models import Request
from mla.users.principal import Principal

OWNER_ROLES = frozenset({Role.PROSECUTOR.value})
AUTHORITY_ROLES = frozenset({Role.CENTRAL_AUTHORITY.value, Role.SUPERVISOR.value})
# Whoever holds none of these never handles a request, so is never its assignee (auditors, admins, platform admins).
HANDLER_ROLES = OWNER_ROLES | AUTHORITY_ROLES


def effective_roles(actor: Principal, request: Request) -> frozenset[str]:
    """The workflow roles the actor holds *for this request*.

    Prosecutors act for the owning organisation, and for the prosecution service an incoming
    request was handed to; central-authority officers and supervisors for the responsible central
    authority (the owner itself when it has none). A central-authority role held in a prosecution
    service that reports to an authority counts for nothing here.
    """
    roles = roles_for(actor, owner_id=request.organisation_id, authority_id=request.central_authority_id)
    if request.executing_organisation_id is not None and actor.organisation_id == request.executing_organisation_id:
        roles |= actor.roles & OWNER_ROLES
    return roles


def roles_for(actor: Principal, *, owner_id: uuid.UUID, authority_id: uuid.UUID | None) -> frozenset[str]:
    """`effective_roles` for a request owned by `owner_id` under `authority_id` (also before it exists)."""
    roles: set[str] = set()
    if actor.organisation_id == owner_id:
        roles |= actor.roles & OWNER_ROLES
    if actor.organisation_id == (authority_id or owner_id):
        roles |= actor.roles & AUTHORITY_ROLES
    return frozenset(roles)


def require_handler(actor: Principal, request: Request) -> None:
    """Refuse (403) a caller who may see the request but does not handle it (auditors, admins)."""
    if not effective_roles(actor, request):
        raise Forbidden("Only the request's prosecutors and central authority officers may do this.")


class FourEyesViolation(Forbidden):
    """The four-eyes rule: whoever created or submitted a request neither approves it nor attests its checks."""

    problem = "four-eyes"
    title = "Four eyes: not by the request's author"


async def is_author(session: AsyncSession, actor: Principal, request: Request) -> bool:
    """Whether the actor created the request or ever submitted it, whatever roles they hold."""
    if request.created_by == actor.user_id:
        return True
    return actor.user_id in await repository.submitter_ids(session, request.id)
