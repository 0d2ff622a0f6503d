import uuid

import msgspec
from litestar import Controller, get, post
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from mla.checks.api import check_settings
from mla.clock import Clock
from mla.openapi_problems import STALE_VERSION, problem
from mla.pagination import Page
from mla.requests import service as requests
from mla.requests.api import IfMatch, parse_if_match
from mla.requests.schemas import RequestOut
from mla.settings import Settings
from mla.users.principal import Principal
from mla.workflow import service
from mla.workflow.schemas import ActionFieldOut, ActionInput, AssignInput, AvailableAction

# Every action writes the request, so each needs the version it was based on (in the body, or as
# `If-Match`): the table lists only the fields that differ between actions (the desk sends it hidden).
VERSION_FIELD = ActionFieldOut(name="version", required=True, kind="int")


class WorkflowController(Controller):
    path = "/api/v1/requests/{request_id:uuid}"
    tags = ["workflow"]

    @get("/actions")
    async def list_actions(
        self, request_id: uuid.UUID, session: AsyncSession, principal: Principal
    ) -> Page[AvailableAction]:
        """Actions you may take on this request now, with the fields each needs

        Any role that sees the request; each item is an action the caller's roles allow in the current status,
        the status it leads to and the body fields it takes (`version` always: the request's current version, or
        send it as `If-Match`). Changes nothing.
        """
        actions = await service.actions_for(session, principal, request_id)
        items = [msgspec.structs.replace(action, fields=[*action.fields, VERSION_FIELD]) for action in actions]
        return Page(items=items, next_cursor=None)

    @post(
        "/actions/{action:str}",
        status_code=HTTP_200_OK,
        responses={
            409: problem(
                f"{STALE_VERSION}; the action is not allowed in the request's status; `approve` or `accept` "
                "while a blocking check fails or an attestation is missing (`failing_checks` names each); or an "
                "extension beyond what the instrument allows (`limit`)."
            )
        },
    )
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
        """Take a workflow action (send the version)

        The roles the workflow table gives the action (`GET .../actions` lists those the caller may take now):
        e.g. prosecutors `submit`, central authority officers `approve` and `transmit`, never the request's
        author for four-eyes actions. Moves the request to its next status, opens and closes its deadlines, and
        records the action on the trail, in one transaction. Answers the request at its new version. An unknown
        action is 404.
        """
        request = await service.perform_action(
            session, clock, principal, request_id, action, data, parse_if_match(if_match), check_settings(settings)
        )
        return requests.to_out(request)

    @post(
        "/assign",
        status_code=HTTP_200_OK,
        responses={409: problem(f"{STALE_VERSION}, or the request is closed.")},
    )
    async def assign(
        self,
        request_id: uuid.UUID,
        data: AssignInput,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
        if_match: IfMatch = None,
    ) -> RequestOut:
        """Assign the request to a user (null to unassign)

        The request's prosecutors and central authority officers. The assignee must be an active user of the
        owning organisation, its central authority or the executing organisation. Send the version. Answers the
        request at its new version; audited.
        """
        request = await service.assign(session, clock, principal, request_id, data, parse_if_match(if_match))
        return requests.to_out(request)
