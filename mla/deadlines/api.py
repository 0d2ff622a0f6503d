import uuid
from datetime import datetime

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.deadlines import preview, repository
from mla.deadlines.schemas import DeadlineOut, DeadlinePreview
from mla.enums import DataCategory, Direction, RequestType, Urgency
from mla.guards import OPEN_TO_PLATFORM_ADMINS
from mla.instruments import service as instruments
from mla.pagination import Page
from mla.requests import service as requests
from mla.users.principal import Principal


class RequestDeadlineController(Controller):
    path = "/api/v1/requests/{request_id:uuid}/deadlines"
    tags = ["deadlines"]

    @get("/")
    async def list_deadlines(
        self, request_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> Page[DeadlineOut]:
        """The request's clocks, each with how its due moment was computed

        Any role that sees the request. Each deadline's kind, rule, status (`open`, `met`, `missed`,
        `cancelled`), due moment and explanation (start, rule, unit, days skipped) to check by hand.
        """
        request = await requests.read_request(session, clock, principal, request_id, "read_deadlines")
        instrument = await instruments.get_by_code(session, request.instrument)
        rows = await repository.all_deadlines(session, request.id)
        items = [preview.deadline_out(deadline, rule, instrument) for deadline, rule in rows]
        return Page(items=items, next_cursor=None)


class DeadlineCalculatorController(Controller):
    path = "/api/v1/deadlines"
    tags = ["deadlines"]
    opt = OPEN_TO_PLATFORM_ADMINS  # a calculator over the rules, which platform admins edit: no case data

    @get("/preview")
    async def preview_deadlines(
        self,
        session: AsyncSession,
        principal: Principal,
        # No NUL in what is looked up: PostgreSQL cannot compare with U+0000 (a 500, not a 422).
        instrument: str = Parameter(max_length=32, pattern=r"\A[^\x00]*\Z"),
        type: RequestType = Parameter(),
        action: str = Parameter(max_length=32, pattern=r"\A[^\x00]*\Z"),
        start: datetime = Parameter(description="RFC 3339 with an offset"),
        urgency: Urgency = Urgency.ROUTINE,
        direction: Direction = Direction.OUTGOING,
        organisation_id: uuid.UUID | None = None,
        data_category: list[DataCategory] | None = None,
        counterparty_id: uuid.UUID | None = Parameter(
            default=None, description="The provider or state who must answer: its calendar counts for its clocks"
        ),
        enforcing_state: str | None = Parameter(
            default=None,
            max_length=2,
            description="EPOC notified to this state's enforcing authority (Reg. 2023/1543 art 8)",
        ),
        without_prior_validation: bool = Parameter(
            default=False, description="Emergency order issued without prior validation (art 4(5))"
        ),
    ) -> Page[DeadlinePreview]:
        """Deadline calculator: what an action would open at a given start

        Any signed-in user. Every deadline `action` would open at `start` for a request of that instrument, type
        and urgency owned by `organisation_id` (default: the caller's), with the explanation of each. Changes
        nothing.
        """
        query = preview.PreviewQuery(
            instrument=instrument,
            type=type,
            action=action,
            start=start,
            urgency=urgency,
            direction=direction,
            organisation_id=organisation_id or principal.organisation_id,
            data_categories=data_category,
            counterparty_id=counterparty_id,
            enforcing_state=enforcing_state,
            without_prior_validation=without_prior_validation,
        )
        return Page(items=await preview.preview(session, query), next_cursor=None)
