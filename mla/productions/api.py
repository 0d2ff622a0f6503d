import uuid

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.pagination import Page
from mla.productions import service
from mla.productions.schemas import CustodyCreate, ProductionCreate, ProductionOut
from mla.users.principal import Principal


class ProductionController(Controller):
    path = "/api/v1/requests/{request_id:uuid}/productions"
    tags = ["evidence"]

    @post("/", summary="Record evidence received (metadata and SHA-256 only)")
    async def record_production(
        self, request_id: uuid.UUID, data: ProductionCreate, session: AsyncSession, clock: Clock, principal: Principal
    ) -> ProductionOut:
        return await service.record_production(session, clock, principal, request_id, data)

    @get("/", summary="Evidence received for the request, with custody")
    async def list_productions(
        self, request_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> Page[ProductionOut]:
        return Page(items=await service.list_productions(session, clock, principal, request_id), next_cursor=None)

    @post("/{production_id:uuid}/custody", summary="Append a chain-of-custody event")
    async def record_custody(
        self,
        request_id: uuid.UUID,
        production_id: uuid.UUID,
        data: CustodyCreate,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
    ) -> ProductionOut:
        return await service.record_custody(session, clock, principal, request_id, production_id, data)
