from litestar import Controller, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.enums import Role
from mla.guards import OPEN_TO_PLATFORM_ADMINS, requires
from mla.instruments import service
from mla.instruments.schemas import InstrumentCreate, InstrumentOut, InstrumentPatch
from mla.openapi_problems import problem
from mla.pagination import Page
from mla.users.principal import Principal


class InstrumentController(Controller):
    path = "/api/v1/instruments"
    tags = ["reference data"]
    opt = OPEN_TO_PLATFORM_ADMINS

    @get("/")
    async def list_instruments(self, session: AsyncSession) -> Page[InstrumentOut]:
        """The legal-basis catalogue

        Any signed-in user. Every instrument a request can rest on (`instrument` of a request), with the request
        types, directions, targets and data categories it allows, and its preservation and extension periods.
        """
        return Page(items=await service.list_instruments(session), next_cursor=None)

    @get("/{code:str}")
    async def get_instrument(self, session: AsyncSession, code: str) -> InstrumentOut:
        """One instrument

        Any signed-in user.
        """
        return await service.get_by_code(session, code)


class AdminInstrumentController(Controller):
    path = "/api/v1/admin/instruments"
    tags = ["admin"]
    guards = [requires(Role.PLATFORM_ADMIN)]
    opt = OPEN_TO_PLATFORM_ADMINS

    @post("/", responses={409: problem("An instrument with this code already exists.")})
    async def create_instrument(
        self, data: InstrumentCreate, session: AsyncSession, clock: Clock, principal: Principal
    ) -> InstrumentOut:
        """Add an instrument

        Platform administrators only. Adds a legal basis to the catalogue. Answers it; audited.
        """
        return await service.create_instrument(session, clock, principal, data)

    @patch("/{code:str}")
    async def update_instrument(
        self, code: str, data: InstrumentPatch, session: AsyncSession, clock: Clock, principal: Principal
    ) -> InstrumentOut:
        """Edit an instrument (audited)

        Platform administrators only. Changes apply to checks and deadlines computed from now on. Answers the
        instrument; audited with before and after.
        """
        return await service.update_instrument(session, clock, principal, code, data)
