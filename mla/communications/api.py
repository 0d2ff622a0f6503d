import uuid

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.communications import service
from mla.communications.schemas import CommunicationCreate, CommunicationOut
from mla.pagination import Page
from mla.users.principal import Principal


class CommunicationController(Controller):
    path = "/api/v1/requests/{request_id:uuid}/communications"
    tags = ["communications"]

    @post("/")
    async def record_communication(
        self,
        request_id: uuid.UUID,
        data: CommunicationCreate,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
    ) -> CommunicationOut:
        """Record a letter, acknowledgement or call

        The request's prosecutors and central authority officers. A dated note of an exchange with the
        counterparty; one `sent` restarts the status follow-up clock. Answers it; audited.
        """
        return await service.record_communication(session, clock, principal, request_id, data)

    @get("/")
    async def list_communications(
        self, request_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> Page[CommunicationOut]:
        """Communications about the request, oldest first

        Any role that sees the request. An auditor's or another organisation's read is recorded.
        """
        return Page(items=await service.list_communications(session, clock, principal, request_id), next_cursor=None)
