from litestar import Controller, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.enums import Role
from mla.guards import OPEN_TO_PLATFORM_ADMINS, requires
from mla.organisations import service
from mla.organisations.schemas import OrganisationCreate, OrganisationOut
from mla.pagination import DEFAULT_LIMIT, Page
from mla.users.principal import Principal


class AdminOrganisationController(Controller):
    path = "/api/v1/admin/organisations"
    tags = ["admin"]
    guards = [requires(Role.PLATFORM_ADMIN)]
    opt = OPEN_TO_PLATFORM_ADMINS

    @post("/", summary="Create an organisation")
    async def create_organisation(
        self, data: OrganisationCreate, session: AsyncSession, clock: Clock, principal: Principal
    ) -> OrganisationOut:
        return service.to_out(await service.create_organisation(session, clock, principal, data))

    @get("/", summary="List organisations")
    async def list_organisations(
        self,
        session: AsyncSession,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[OrganisationOut]:
        return await service.list_organisations(session, cursor, limit)
