import uuid

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.openapi_problems import problem
from mla.pagination import Page
from mla.productions import service
from mla.productions.schemas import CustodyCreate, ProductionCreate, ProductionOut
from mla.users.principal import Principal


class ProductionController(Controller):
    path = "/api/v1/requests/{request_id:uuid}/productions"
    tags = ["evidence"]

    @post(
        "/",
        responses={
            409: problem(
                "No evidence can have arrived yet: the request was never transmitted (outgoing) or accepted (incoming)."
            )
        },
    )
    async def record_production(
        self, request_id: uuid.UUID, data: ProductionCreate, session: AsyncSession, clock: Clock, principal: Principal
    ) -> ProductionOut:
        """Record evidence received (metadata and SHA-256 only)

        The request's prosecutors and central authority officers, once the request was transmitted (outgoing) or
        accepted (incoming). No file is stored: what arrived, when, its size, format and SHA-256; a hash already
        recorded on the request is flagged in `duplicate_of`. Answers the production; audited.
        """
        return await service.record_production(session, clock, principal, request_id, data)

    @get("/")
    async def list_productions(
        self, request_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> Page[ProductionOut]:
        """Evidence received for the request, with custody

        Any role that sees the request; each production with its chain-of-custody events, oldest first. An
        auditor's or another organisation's read is recorded on the trail.
        """
        return Page(items=await service.list_productions(session, clock, principal, request_id), next_cursor=None)

    @post("/{production_id:uuid}/custody")
    async def record_custody(
        self,
        request_id: uuid.UUID,
        production_id: uuid.UUID,
        data: CustodyCreate,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
    ) -> ProductionOut:
        """Append a chain-of-custody event

        The request's prosecutors and central authority officers. Earlier events never change; the event's
        moment lies between the production's receipt and now. Answers the production with its custody; audited.
        """
        return await service.record_custody(session, clock, principal, request_id, production_id, data)
