import uuid

import msgspec
from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from mla.checks import service
from mla.checks.rules import CheckSettings
from mla.checks.schemas import AttestationInput, CheckOut
from mla.clock import Clock
from mla.openapi_problems import problem
from mla.pagination import Page
from mla.requests import service as requests
from mla.settings import Settings
from mla.users.principal import Principal


def check_settings(settings: Settings) -> CheckSettings:
    return CheckSettings(max_content_days=settings.max_content_days)


def page(results: list[service.CheckResult]) -> Page[CheckOut]:
    return Page(items=[msgspec.convert(r.as_record(), CheckOut) for r in results], next_cursor=None)


class CheckController(Controller):
    path = "/api/v1/requests/{request_id:uuid}/checks"
    tags = ["checks"]

    @get("/")
    async def list_checks(
        self, request_id: uuid.UUID, session: AsyncSession, clock: Clock, settings: Settings, principal: Principal
    ) -> Page[CheckOut]:
        """Legality and proportionality checks of the request as it is now

        Any role that sees the request. Each check's severity (`blocking` or `warning`), outcome (`pass`,
        `fail`, `needs_attestation`) and explanation, evaluated now (treaties as in force today). A blocking
        failure or a missing attestation stops `approve` and `accept`.
        """
        request = await requests.read_request(session, clock, principal, request_id, "read_checks")
        return page(await service.evaluate_request(session, clock, request, check_settings(settings)))

    @post("/{code:str}/attestation", responses={409: problem("The request is closed.")})
    async def attest(
        self,
        request_id: uuid.UUID,
        code: str,
        data: AttestationInput,
        session: AsyncSession,
        clock: Clock,
        settings: Settings,
        principal: Principal,
    ) -> Page[CheckOut]:
        """Attest a check that needs judgement (central authority)

        Officers and supervisors of the request's central authority, never the request's author (four eyes).
        Records `pass` or `fail` with a reason on a check that needs judgement (dual criminality, human-rights
        risk, privileged persons...); it holds while the fields it judged do not change. Answers every check as
        it now stands; audited. An unknown or automatic check is 404.
        """
        results = await service.attest(session, clock, principal, check_settings(settings), request_id, code, data)
        return page(results)
