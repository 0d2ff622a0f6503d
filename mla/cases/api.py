import uuid

from litestar import Controller, get, patch, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from mla.cases import service
from mla.cases.schemas import CaseClose, CaseCreate, CaseOut, CasePatch, CaseSummary
from mla.clock import Clock
from mla.enums import Role
from mla.guards import requires
from mla.openapi_problems import problem
from mla.pagination import DEFAULT_LIMIT, Page
from mla.users.principal import Principal


class CaseController(Controller):
    path = "/api/v1/cases"
    tags = ["cases"]

    @post(
        "/",
        guards=[requires(Role.PROSECUTOR, Role.CENTRAL_AUTHORITY)],
        responses={409: problem("Your organisation already has a case with this reference.")},
    )
    async def create_case(self, data: CaseCreate, session: AsyncSession, clock: Clock, principal: Principal) -> CaseOut:
        """Open a case

        Prosecutors and central authority officers. Opens an investigation file of the caller's organisation
        (reference, title, offences with their maximum penalty, summary) that requests are filed under. Answers
        the case; audited.
        """
        return service.to_out(await service.create_case(session, clock, principal, data))

    @get("/")
    async def list_cases(
        self,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[CaseSummary]:
        """Cases you may see, as summaries (no summary text or offences)

        Any role of an organisation: its own cases and those with a request routed to its central authority, one
        page at a time (`cursor`, `limit`). An auditor's or another organisation's read is recorded on the
        trail.
        """
        return await service.list_cases(session, clock, principal, cursor, limit)

    @get("/{case_id:uuid}")
    async def get_case(self, case_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal) -> CaseOut:
        """One case

        Any role of an organisation that owns the case or has a request of it routed to it; any other case is
        404, whether it exists or not. An auditor's or another organisation's read is recorded.
        """
        return service.to_out(await service.read_case(session, clock, principal, case_id))

    @patch("/{case_id:uuid}", summary="Edit a case (send its version)")
    async def update_case(
        self, case_id: uuid.UUID, data: CasePatch, session: AsyncSession, clock: Clock, principal: Principal
    ) -> CaseOut:
        """Change an open case's reference, title, summary or offences; fields left out stay as they are.

        Only the owning organisation's prosecutors and central authority officers may (403 for an
        authority a request of the case is routed to; 404 for anyone else). The body names the
        version last read: another is 409, as is a closed case or a reference already in use.
        Recorded on the case's audit trail (`update_case`).
        """
        return service.to_out(await service.update_case(session, clock, principal, case_id, data))

    @post("/{case_id:uuid}/close", summary="Close a case whose requests are all closed", status_code=200)
    async def close_case(
        self, case_id: uuid.UUID, data: CaseClose, session: AsyncSession, clock: Clock, principal: Principal
    ) -> CaseOut:
        """Close a case once every request of it is closed (fulfilled, refused, rejected, withdrawn or
        expired); otherwise 409 with the open requests' references in `open_requests`.

        A closed case takes no new request and no edit (409). Who may close it, and the version, as
        for `PATCH /cases/{id}`. Recorded on the case's audit trail (`close_case`).
        """
        return service.to_out(await service.close_case(session, clock, principal, case_id, data))
