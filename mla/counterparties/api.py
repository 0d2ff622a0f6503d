import uuid

from litestar import Controller, get, patch, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.counterparties import service
from mla.counterparties.schemas import CounterpartyCreate, CounterpartyOut, CounterpartyPatch
from mla.enums import CounterpartyKind, Role
from mla.guards import OPEN_TO_PLATFORM_ADMINS, requires
from mla.openapi_problems import problem
from mla.pagination import DEFAULT_LIMIT, Page
from mla.users.principal import Principal


class CounterpartyController(Controller):
    path = "/api/v1/counterparties"
    tags = ["reference data"]
    opt = OPEN_TO_PLATFORM_ADMINS

    @get("/")
    async def list_counterparties(
        self,
        session: AsyncSession,
        kind: CounterpartyKind | None = None,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[CounterpartyOut]:
        """States and providers requests can go to

        Any signed-in user. The catalogue of counterparties (`kind`: `state` or `provider`), with each one's
        contact points, languages, request types it accepts and time zone; a request's `target_id` is one of
        their ids.
        """
        return await service.list_counterparties(session, kind, cursor, limit)

    @get("/{counterparty_id:uuid}")
    async def get_counterparty(self, session: AsyncSession, counterparty_id: uuid.UUID) -> CounterpartyOut:
        """One counterparty

        Any signed-in user.
        """
        return await service.get_counterparty(session, counterparty_id)


class AdminCounterpartyController(Controller):
    path = "/api/v1/admin/counterparties"
    tags = ["admin"]
    guards = [requires(Role.PLATFORM_ADMIN)]
    opt = OPEN_TO_PLATFORM_ADMINS

    @post("/", responses={409: problem("A counterparty with this name already exists.")})
    async def create_counterparty(
        self, data: CounterpartyCreate, session: AsyncSession, clock: Clock, principal: Principal
    ) -> CounterpartyOut:
        """Add a state or provider

        Platform administrators only. Adds to the catalogue every organisation files requests against. Answers
        the counterparty; audited.
        """
        return await service.create_counterparty(session, clock, principal, data)

    @patch(
        "/{counterparty_id:uuid}",
    )
    async def update_counterparty(
        self,
        counterparty_id: uuid.UUID,
        data: CounterpartyPatch,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
    ) -> CounterpartyOut:
        """Set the time zone a counterparty's answers are counted in

        Platform administrators only. Clocks opened from now on count in the new time zone; running ones keep
        theirs. Answers the counterparty; audited.
        """
        return await service.update_counterparty(session, clock, principal, counterparty_id, data)
