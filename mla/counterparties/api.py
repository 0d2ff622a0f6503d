import uuid

from litestar import Controller, get, patch, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.counterparties import service
from mla.counterparties.schemas import CounterpartyCreate, CounterpartyOut, CounterpartyPatch
from mla.enums import CounterpartyKind, Role
from mla.guards import OPEN_TO_PLATFORM_ADMINS, requires
from mla.pagination import DEFAULT_LIMIT, Page
from mla.users.principal import Principal


class CounterpartyController(Controller):
    path = "/api/v1/counterparties"
    tags = ["reference data"]
    opt = OPEN_TO_PLATFORM_ADMINS

    @get("/", summary="States and providers requests can go to")
    async def list_counterparties(
        self,
        session: AsyncSession,
        kind: CounterpartyKind | None = None,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[CounterpartyOut]:
        return await service.list_counterparties(session, kind, cursor, limit)

    @get("/{counterparty_id:uuid}", summary="One counterparty")
    async def get_counterparty(self, session: AsyncSession, counterparty_id: uuid.UUID) -> CounterpartyOut:
        return service.to_out(await service.get_counterparty(session, counterparty_id))


class AdminCounterpartyController(Controller):
    path = "/api/v1/admin/counterparties"
    tags = ["admin"]
    guards = [requires(Role.PLATFORM_ADMIN)]
    opt = OPEN_TO_PLATFORM_ADMINS

    @post("/", summary="Add a state or provider")
    async def create_counterparty(
        self, data: CounterpartyCreate, session: AsyncSession, clock: Clock, principal: Principal
    ) -> CounterpartyOut:
        return service.to_out(await service.create_counterparty(session, clock, principal, data))

    @patch(
        "/{counterparty_id:uuid}",
        summary="Set the time zone a counterparty's answers are counted in",
    )
    async def update_counterparty(
        self,
        counterparty_id: uuid.UUID,
        data: CounterpartyPatch,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
    ) -> CounterpartyOut:
        return service.to_out(await service.update_counterparty(session, clock, principal, counterparty_id, data))
