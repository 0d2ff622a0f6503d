from litestar import Controller, get
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service
from mla.audit.api import EVENTS_LIMIT, SEQ_CURSOR
from mla.audit.schemas import AuditEventOut
from mla.enums import Role
from mla.guards import OPEN_TO_PLATFORM_ADMINS, requires
from mla.pagination import Page
from mla.users.principal import Principal


class AdminAuditController(Controller):
    path = "/api/v1/admin/audit"
    tags = ["admin"]
    guards = [requires(Role.ADMIN, Role.PLATFORM_ADMIN)]
    opt = OPEN_TO_PLATFORM_ADMINS

    @get("/")
    async def list_administration_events(
        self, session: AsyncSession, principal: Principal, cursor: int = SEQ_CURSOR, limit: int = EVENTS_LIMIT
    ) -> Page[AuditEventOut]:
        """Administration events, oldest first: your organisation's (a platform admin: the installation's)

        Admins and platform administrators. Every user creation, grant and revocation of roles, disabling,
        password reset and API token change in your organisation, and its webhooks; a platform administrator
        sees the installation's chain (organisations, catalogue, first admins). Never another organisation's.
        One page at a time (`cursor` is the last `seq` seen).
        """
        installation = principal.has_any(Role.PLATFORM_ADMIN)
        chain = service.admin_chain(None if installation else principal.organisation_id)
        return await service.chain_page(session, chain, cursor, limit)
