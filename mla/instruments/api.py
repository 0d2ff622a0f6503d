from litestar import Controller, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.enums import Role
from mla.guards import OPEN_TO_PLATFORM_ADMINS, requires
from mla.instruments import service
from mla.instruments.schemas import InstrumentCreate, InstrumentOut, InstrumentPatch
from mla.pagination import Page
from mla.users.principal import Principal


class InstrumentController(Controller):
    path = "/api/v1/instruments"
    tags = ["reference data"]
    opt = OPEN_TO_PLATFORM_ADMINS

    @get("/", summary="The legal-basis catalogue")
    async def list_instruments(self, session: AsyncSession) -> Page[InstrumentOut]:
        return Page(items=await service.list_instruments(session), next_cursor=None)

    @get("/{code:str}", summary="One instrument")
    async def get_instrument(self, session: AsyncSession, code: str) -> InstrumentOut:
        return service.to_out(await service.get_by_code(session, code))


class AdminInstrumentController(Controller):
    path = "/api/v1/admin/instruments"
    tags = ["admin"]
    guards = [requires(Role.PLATFORM_ADMIN)]
    opt = OPEN_TO_PLATFORM_ADMINS

    @post("/", summary="Add an instrument")
    async def create_instrument(
        self, data: InstrumentCreate, session: AsyncSession, clock: Clock, principal: Principal
    ) -> InstrumentOut:
        return service.to_out(await service.create_instrument(session, clock, principal, data))

    @patch("/{code:str}", summary="Edit an instrument (audited)")
    async def update_instrument(
        self, code: str, data: InstrumentPatch, session: AsyncSession, clock: Clock, principal: Principal
    ) -> InstrumentOut:
        return service.to_out(await service.update_instrument(session, clock, principal, code, data))
