import uuid

from litestar import Controller, get, post
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from mla.checks.api import check_settings
from mla.clock import Clock
from mla.pagination import Page
from mla.requests import service as requests
from mla.requests.api import IfMatch, parse_if_match
from mla.requests.schemas import RequestOut
from mla.settings import Settings
from mla.users.principal import Principal
from mla.workflow import service
from mla.workflow.schemas import ActionInput, AssignInput, AvailableAction


class WorkflowController(Controller):
    path = "/api/v1/requests/{request_id:uuid}"
    tags = ["workflow"]

    @get("/actions", summary="Actions you may take on this request now, with the fields each needs")
    async def list_actions(
        self, request_id: uuid.UUID, session: AsyncSession, principal: Principal
    ) -> Page[AvailableAction]:
        return Page(items=await service.actions_for(session, principal, request_id), next_cursor=None)

    @post("/actions/{action:str}", summary="Take a workflow action (send the version)", status_code=HTTP_200_OK)
    async def perform_action(
        self,
        request_id: uuid.UUID,
        action: str,
        data: ActionInput,
        session: AsyncSession,
        clock: Clock,
        settings: Settings,
        principal: Principal,
        if_match: IfMatch = None,
    ) -> RequestOut:
        request = await service.perform_action(
            session, clock, principal, request_id, action, data, parse_if_match(if_match), check_settings(settings)
        )
        return requests.to_out(request)

    @post("/assign", summary="Assign the request to a user (null to unassign)", status_code=HTTP_200_OK)
    async def assign(
        self,
        request_id: uuid.UUID,
        data: AssignInput,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
        if_match: IfMatch = None,
    ) -> RequestOut:
        request = await service.assign(session, clock, principal, request_id, data, parse_if_match(if_match))
        return requests.to_out(request)
