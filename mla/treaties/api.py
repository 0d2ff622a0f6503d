from litestar import Controller, delete, get, put
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.enums import Role
from mla.guards import OPEN_TO_PLATFORM_ADMINS, requires
from mla.pagination import Page
from mla.treaties import service
from mla.treaties.schemas import PartyInput, TreatyOut, TreatyPartyOut
from mla.users.principal import Principal


class TreatyController(Controller):
    path = "/api/v1/treaties"
    tags = ["reference data"]
    opt = OPEN_TO_PLATFORM_ADMINS

    @get("/")
    async def list_treaties(self, session: AsyncSession) -> Page[TreatyOut]:
        """Treaties and the states bound by them

        Any signed-in user. A request resting on an instrument of a treaty passes the `instrument_in_force`
        check only if the treaty is in force, on the day of the check, for the requesting and the requested
        state (or the provider's state); for an EU regulation, for the issuing state. A state with no record
        counts as not bound. Rows with `source_verified: false` make the check ask an officer's attestation.
        """
        return Page(items=await service.list_treaties(session), next_cursor=None)

    @get("/{code:str}")
    async def get_treaty(self, session: AsyncSession, code: str) -> TreatyOut:
        """One treaty and its parties

        Any signed-in user. How the parties count: see `GET /api/v1/treaties`.
        """
        return await service.get_treaty_out(session, code)


class AdminTreatyController(Controller):
    """Installation reference data: edited by platform admins, audited on the installation chain."""

    path = "/api/v1/admin/treaties/{code:str}/parties/{country:str}"
    tags = ["admin"]
    guards = [requires(Role.PLATFORM_ADMIN)]
    opt = OPEN_TO_PLATFORM_ADMINS

    @put(
        "/",
        status_code=HTTP_200_OK,
    )
    async def set_party(
        self, code: str, country: str, data: PartyInput, session: AsyncSession, clock: Clock, principal: Principal
    ) -> TreatyPartyOut:
        """Record where a state stands with a treaty (audited)

        Platform administrators only. Inserts or replaces the state's record (signed, ratified and in force on
        which dates, with its source); the `instrument_in_force` check of every request uses it from now on (see
        `GET /api/v1/treaties`). Answers the record; audited with before and after.
        """
        return service.party_out(await service.set_party(session, clock, principal, code, country, data))

    @delete("/")
    async def remove_party(
        self, code: str, country: str, session: AsyncSession, clock: Clock, principal: Principal
    ) -> None:
        """Forget a state's record: it then counts as not bound (audited)

        Platform administrators only. Answers 204; a state with no record is 404.
        """
        await service.remove_party(session, clock, principal, code, country)
