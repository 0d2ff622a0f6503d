import uuid
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import Provide
from litestar.params import HeaderParameter, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.enums import DataCategory, Direction, RequestStatus, RequestType, Urgency
from mla.fields import IDENTIFIER_MAX_LENGTH
from mla.openapi_problems import STALE_VERSION, problem
from mla.pagination import DEFAULT_LIMIT, Page
from mla.requests import service
from mla.requests.repository import RequestFilters
from mla.requests.schemas import RequestCreate, RequestOut, RequestPatch, RequestSummary
from mla.users.principal import Principal

IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", description="The version the write is based on")]


def parse_if_match(header: str | None) -> int | None:
    """`If-Match: 3`, `"3"` or `W/"3"` → 3; anything else is a 422."""
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()):  # str.isdigit() also accepts "²", which int() refuses
        raise service.field_error("If-Match", "must be the request's version number")
    return int(value)


REFERENCE_SEARCH = Parameter(
    default=None,
    max_length=100,
    pattern=r"\A[^\x00]*\Z",  # PostgreSQL cannot compare with U+0000: a 500, not a 422
    description="Text in our or the counterparty's reference",
)
IDENTIFIER_SEARCH = Parameter(
    default=None,
    max_length=IDENTIFIER_MAX_LENGTH,
    pattern=r"\A[^\x00]*\Z",
    description="An identifier the request asks about (an e-mail, phone, IP, account...), matched exactly after "
    "the normalisation identifiers get when filed (e.g. `+49 30 1234567` finds `+49301234567`), under every "
    "kind that accepts it: what was already asked about it, to whom, and what came back.",
)


def provide_request_filters(
    status: RequestStatus | None = None,
    type: RequestType | None = None,
    direction: Direction | None = None,
    urgency: Urgency | None = None,
    target: uuid.UUID | None = None,
    assignee: uuid.UUID | None = None,
    case: uuid.UUID | None = None,
    data_category: DataCategory | None = None,
    q: str | None = REFERENCE_SEARCH,
    identifier: str | None = IDENTIFIER_SEARCH,
) -> RequestFilters:
    """The filters of `GET /api/v1/requests`, with the same query parameter names."""
    return RequestFilters(
        status=status,
        type=type,
        direction=direction,
        urgency=urgency,
        target_id=target,
        assignee_id=assignee,
        case_id=case,
        data_category=data_category,
        q=q,
        identifier=identifier,
    )


class RequestController(Controller):
    path = "/api/v1/requests"
    tags = ["requests"]

    @post("/")
    async def create_request(
        self, data: RequestCreate, session: AsyncSession, clock: Clock, principal: Principal
    ) -> RequestOut:
        """File a draft request (or record a received one)

        Outgoing (`direction: outgoing`): prosecutors and central authority officers file a `draft` for their
        organisation, under one of its cases. Incoming: central authority officers record a request received
        from abroad (status `received`). The instrument must allow the type; identifiers are validated and
        normalised. Answers the request with `version: 1`; audited. Check it with `GET .../checks`, then take
        `submit` (`GET .../actions`).
        """
        return service.to_out(await service.create_request(session, clock, principal, data))

    @get(
        "/",
        dependencies={"filters": Provide(provide_request_filters, sync_to_thread=False)},
    )
    async def list_requests(
        self,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
        filters: RequestFilters,
        cursor: str | None = None,
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> Page[RequestSummary]:
        """Requests your organisation owns or is responsible for, as summaries (no statements)

        Any role of an organisation, filtered by the query parameters (`case`, `status`, `type`, `direction`,
        `urgency`, `target`, `assignee`, `data_category`, `q` for references, `identifier`), one page at a time
        (`cursor`, `limit`). Each summary carries its next running deadline. An auditor's read is recorded on
        the trail.
        """
        return await service.list_requests(session, clock, principal, filters, cursor, limit)

    @get("/{request_id:uuid}")
    async def get_request(
        self, request_id: uuid.UUID, session: AsyncSession, clock: Clock, principal: Principal
    ) -> RequestOut:
        """One request

        Any role of the owning organisation or of the organisations it is routed to; any other request is 404.
        Carries `version`: send it back with every write. An auditor's or another organisation's read is
        recorded on the request's trail.
        """
        return service.to_out(await service.read_request(session, clock, principal, request_id))

    @patch(
        "/{request_id:uuid}",
        responses={409: problem(f"{STALE_VERSION}, or the request's status no longer allows this edit.")},
    )
    async def update_request(
        self,
        request_id: uuid.UUID,
        data: RequestPatch,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
        if_match: IfMatch = None,
    ) -> RequestOut:
        """Edit a request (send its version)

        The request's prosecutors and central authority officers. While a draft, every field may change; while
        open, only references and priority. Send the version you read (body or `If-Match`). Answers the request
        at its new version; audited with before and after.
        """
        request = await service.update_request(session, clock, principal, request_id, data, parse_if_match(if_match))
        return service.to_out(request)
