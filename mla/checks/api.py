import uuid

import msgspec
from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from mla.checks import service
from mla.checks.rules import CheckSettings
from mla.checks.schemas import AttestationInput, CheckOut
from mla.clock import Clock
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

    @get("/", summary="Legality and proportionality checks of the request as it is now")
    async def list_checks(
        self, request_id: uuid.UUID, session: AsyncSession, clock: Clock, settings: Settings, principal: Principal
    ) -> Page[CheckOut]:
        request = await requests.read_request(session, clock, principal, request_id, "read_checks")
        return page(await service.evaluate_request(session, clock, request, check_settings(settings)))

    @post("/{code:str}/attestation", summary="Attest a check that needs judgement (central authority)")
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
        results = await service.attest(session, clock, principal, check_settings(settings), request_id, code, data)
        return page(results)
