"""Who may act on a request, beyond seeing it."""

from mla.enums import Role
from mla.errors import Forbidden
from mla.requests.models import Request
from mla.users.principal import Principal

OWNER_ROLES = frozenset({Role.PROSECUTOR.value})
AUTHORITY_ROLES = frozenset({Role.CENTRAL_AUTHORITY.value, Role.SUPERVISOR.value})


def effective_roles(actor: Principal, request: Request) -> frozenset[str]:
    """The workflow roles the actor holds *for this request*.

    Prosecutors act for the owning organisation; central-authority officers and supervisors for
    the responsible central authority (the owner itself when it has none). A central-authority
    role held in a prosecution service that reports to an authority counts for nothing here.
    """
    roles: set[str] = set()
    if actor.organisation_id == request.organisation_id:
        roles |= actor.roles & OWNER_ROLES
    authority = request.central_authority_id or request.organisation_id
    if actor.organisation_id == authority:
        roles |= actor.roles & AUTHORITY_ROLES
    return frozenset(roles)


def require_handler(actor: Principal, request: Request) -> None:
    """Refuse (403) a caller who may see the request but does not handle it (auditors, admins)."""
    if not effective_roles(actor, request):
        raise Forbidden("Only the request's prosecutors and central authority officers may do this.")
