"""File a request (prosecutors): a form checked live by the API's own rules, with its checks and deadlines shown
before anything is saved."""

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from mla.cases import service as cases
from mla.checks import service as checks
from mla.checks.api import check_settings
from mla.clock import Clock
from mla.counterparties import service as counterparties
from mla.deadlines import preview
from mla.desk import formatting
from mla.desk.pages import DeskController, Viewer, as_input, go_to, page
from mla.desk.request_page import request_page_url
from mla.enums import CaseStatus, DataCategory, Direction, EmergencyGround, IdentifierKind, RequestType, Urgency
from mla.errors import Unprocessable
from mla.instruments import service as instruments
from mla.requests import service as requests
from mla.requests.schemas import RequestCreate
from mla.settings import Settings
from mla.workflow.table import Action

IDENTIFIER_ROWS = 3
PERIOD_FIELDS = ("period_start", "period_end")
LIST_FIELDS = ("data_categories", "emergency_grounds")  # checkbox groups
CHECKBOX_FIELDS = ("confidential", "issued_without_prior_validation")  # checked: "yes"
# The clocks a draft will start: the review when submitted, the counterparty's answer when transmitted.
PREVIEWED_ACTIONS = {"submitted": Action.SUBMIT, "transmitted": Action.TRANSMIT}


def request_fields(form: FormMultiDict, zone: str) -> dict[str, Any]:
    """The form as the JSON body `POST /api/v1/requests` takes (times read in the user's zone)."""
    fields: dict[str, Any] = {name: form.get(name, "") for name in RequestCreate.__struct_fields__}
    fields |= {"direction": Direction.OUTGOING.value}
    fields |= {name: form.getall(name, []) for name in LIST_FIELDS}
    fields |= {name: form.get(name) == "yes" for name in CHECKBOX_FIELDS}
    fields["identifiers"] = [
        {"kind": form.get(f"identifier_kind_{row}"), "value": value}
        for row in range(IDENTIFIER_ROWS)
        if (value := form.get(f"identifier_value_{row}", "").strip())
    ]
    for name in PERIOD_FIELDS:
        if fields[name]:
            try:
                fields[name] = formatting.from_local_input(fields[name], zone).isoformat()
            except ValueError as exc:
                raise Unprocessable(f"{name}: give a date and time.") from exc
    return fields


class DeskFilingController(DeskController):
    path = "/file"

    @get("/")
    async def show_form(self, session: AsyncSession, clock: Clock, viewer: Viewer) -> Template:
        """The form, to those the API lets file a request (403 otherwise, e.g. an organisation's admin)."""
        await requests.require_filing_role(session, viewer.principal, Direction.OUTGOING)
        visible = (await cases.list_cases(session, clock, viewer.principal, None, 200)).items
        context = {
            # Requests are filed on the organisation's own open cases, not on those routed to it.
            "cases": [
                case
                for case in visible
                if case.organisation_id == viewer.principal.organisation_id and case.status == CaseStatus.OPEN
            ],
            "targets": (await counterparties.list_counterparties(session, None, None, 200)).items,
            "instruments": await instruments.list_instruments(session),
            "types": list(RequestType),
            "urgencies": list(Urgency),
            "categories": list(DataCategory),
            "grounds": list(EmergencyGround),
            "identifier_kinds": list(IdentifierKind),
            "identifier_rows": range(IDENTIFIER_ROWS),
        }
        return page(viewer, "file.html", **context)

    @post("/preview")
    async def preview_request(
        self, request: Request[Any, Any, Any], session: AsyncSession, clock: Clock, settings: Settings, viewer: Viewer
    ) -> Template:
        """The checks and deadlines the request in the form would get, computed by the services; nothing is saved."""
        data = as_input(request_fields(await request.form(), viewer.zone), RequestCreate)
        unsaved = await requests.unsaved_request(session, clock, viewer.principal, data)
        results = await checks.evaluate_request(session, clock, unsaved, check_settings(settings))
        clocks = {
            moment: await preview.preview(
                session,
                preview.PreviewQuery(
                    instrument=data.instrument,
                    type=data.type,
                    action=action,
                    start=clock.now(),
                    urgency=data.urgency,
                    direction=data.direction,
                    organisation_id=viewer.principal.organisation_id,
                    data_categories=list(data.data_categories),
                    counterparty_id=data.target_id,
                    enforcing_state=data.notified_enforcing_state,
                    without_prior_validation=data.issued_without_prior_validation,
                ),
            )
            for moment, action in PREVIEWED_ACTIONS.items()
        }
        return page(viewer, "_filing_preview.html", checks=results, clocks=clocks)

    @post("/")
    async def file_request(
        self, request: Request[Any, Any, Any], session: AsyncSession, clock: Clock, viewer: Viewer
    ) -> Response[Any]:
        """`POST /api/v1/requests`: saves a draft, then its page offers `submit`."""
        data = as_input(request_fields(await request.form(), viewer.zone), RequestCreate)
        filed = await requests.create_request(session, clock, viewer.principal, data)
        return go_to(request, request_page_url(filed.id))
