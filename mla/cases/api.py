import uuid

from litestar import Controller, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from mla.cases import service
from mla.cases.schemas import CaseCreate, CaseOut, CaseSummary
from mla.clock import Clock
from mla.enums import Role
from mla.guards import requires
from mla.pagination import DEFAULT_LIMIT, Page
from mla.users.principal import Principal


class CaseController(Controller):
    path = "/api/v1/cases"
    tags = ["cases"]

    @post("/", summary="Open a case", guards=[requires(Role.PROSECUTOR, Role.CENTRAL_AUTHORITY)])
    async def create_case(self, data: CaseCreate, session: AsyncSession, clock: Clock, principal: Principal) -> CaseOut:
        return service.to_out(await service.create_case(session, clock, principal, data))

    @get("/", summary="Cases you may see, as summaries (no summary text or offences)")
    async def list_cases(
        self,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[CaseSummary]:
        return await service.list_cases(session, clock, principal, cursor, limit)

    @get("/{case_id:uuid}", summary="One case")
    async def get_case(self, case_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal) -> CaseOut:
        return service.to_out(await service.read_case(session, clock, principal, case_id))
