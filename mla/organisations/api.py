from litestar import Controller, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.enums import Role
from mla.guards import OPEN_TO_PLATFORM_ADMINS, requires
from mla.openapi_problems import problem
from mla.organisations import service
from mla.organisations.schemas import OrganisationCreate, OrganisationOut
from mla.pagination import DEFAULT_LIMIT, Page
from mla.users.principal import Principal


class AdminOrganisationController(Controller):
    path = "/api/v1/admin/organisations"
    tags = ["admin"]
    guards = [requires(Role.PLATFORM_ADMIN)]
    opt = OPEN_TO_PLATFORM_ADMINS

    @post("/", responses={409: problem("An organisation with this name already exists.")})
    async def create_organisation(
        self, data: OrganisationCreate, session: AsyncSession, clock: Clock, principal: Principal
    ) -> OrganisationOut:
        """Create an organisation

        Platform administrators only. Creates a prosecution service, central authority, law-enforcement agency
        or court with its country and time zone (its calendar counts for the clocks it must meet); a prosecution
        service names the central authority that reviews its requests. Then create its first admin with `POST
        /api/v1/admin/users`. Answers the organisation; audited on the installation's chain.
        """
        return await service.create_organisation(session, clock, principal, data)

    @get("/")
    async def list_organisations(
        self,
        session: AsyncSession,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[OrganisationOut]:
        """List organisations

        Platform administrators only. Every organisation of the installation, oldest first, one page at a time
        (`cursor`, `limit`).
        """
        return await service.list_organisations(session, cursor, limit)
