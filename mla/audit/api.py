import uuid

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service
from mla.audit.checkpoints import verify_against_checkpoint
from mla.audit.schemas import AuditEventOut, VerifyOut
from mla.clock import Clock
from mla.pagination import Page
from mla.requests import service as requests
from mla.settings import Settings
from mla.users.principal import Principal

# `seq` is a 32-bit column: a larger cursor is refused here, not by PostgreSQL (a 500).
SEQ_CURSOR = Parameter(default=0, ge=0, le=2_147_483_647, description="The last `seq` already read")
EVENTS_LIMIT = Parameter(default=200, ge=1, le=200)


class AuditController(Controller):
    path = "/api/v1/requests/{request_id:uuid}/audit"
    tags = ["audit"]

    @get("/")
    async def list_audit_events(
        self,
        request_id: uuid.UUID,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
        cursor: int = SEQ_CURSOR,
        limit: int = EVENTS_LIMIT,
    ) -> Page[AuditEventOut]:
        """The request's audit trail, oldest first

        Any role that sees the request, auditors included (their read is itself recorded). Every action, edit,
        attestation and accountable read, with actor, before and after, reason and the keyed hash chain (`hash`,
        `prev_hash`), one page at a time (`cursor` is the last `seq` seen).
        """
        request = await requests.read_request(session, clock, principal, request_id, "read_audit_trail")
        return await service.chain_page(session, service.request_chain(request.id), cursor, limit)

    @get("/verify")
    async def verify_audit_trail(
        self, request_id: uuid.UUID, session: AsyncSession, principal: Principal, settings: Settings
    ) -> VerifyOut:
        """Recompute the keyed hash chain, compare it with its last signed checkpoint

        Any role that sees the request. `valid` is false when an event was altered, removed or inserted, when
        the chain no longer reaches its last signed checkpoint (truncation), or when the checkpoint log itself
        does not verify; `first_broken_seq` and `problem` say where and what. Changes nothing.
        """
        request = await requests.get_request(session, principal, request_id)
        return await verify_against_checkpoint(session, settings, service.request_chain(request.id))
