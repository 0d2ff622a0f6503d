import uuid

import msgspec
from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service
from mla.audit.schemas import AuditEventOut, VerifyOut
from mla.clock import Clock
from mla.pagination import Page
from mla.requests import service as requests
from mla.users.principal import Principal


class AuditController(Controller):
    path = "/api/v1/requests/{request_id:uuid}/audit"
    tags = ["audit"]

    @get("/", summary="The request's audit trail, oldest first")
    async def list_audit_events(
        self,
        request_id: uuid.UUID,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
        # `seq` is a 32-bit column: a larger cursor is refused here, not by PostgreSQL (a 500).
        cursor: int = Parameter(default=0, ge=0, le=2_147_483_647, description="The last `seq` already read"),
        limit: int = Parameter(default=200, ge=1, le=200),
    ) -> Page[AuditEventOut]:
        request = await requests.read_request(session, clock, principal, request_id, "read_audit_trail")
        events = await service.list_events(session, service.request_chain(request.id), cursor, limit)
        shown = events[:limit]
        next_cursor = str(shown[-1].seq) if len(events) > limit else None
        return Page(
            items=[msgspec.convert(e, AuditEventOut, from_attributes=True) for e in shown], next_cursor=next_cursor
        )

    @get("/verify", summary="Recompute the hash chain and name the first broken link")
    async def verify_audit_trail(self, request_id: uuid.UUID, session: AsyncSession, principal: Principal) -> VerifyOut:
        request = await requests.get_request(session, principal, request_id)
        verdict = await service.verify_chain(session, service.request_chain(request.id))
        return VerifyOut(valid=verdict.valid, events=verdict.events, first_broken_seq=verdict.first_broken_seq)
