"""The Queue page: the central authority's triage list, its buckets, filters and one-click assignment."""

import urllib.parse
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.counterparties import service as counterparties
from mla.desk.pages import Cursor, DeskController, SearchText, Viewer, as_input, is_htmx, page
from mla.enums import RequestType, Urgency
from mla.instruments import service as instruments
from mla.queue import service as queue
from mla.queue.repository import QueueFilters
from mla.queue.schemas import QueueBucket, QueueOrder
from mla.queue.service import QUEUE_ROLES
from mla.users import service as users
from mla.users.principal import Principal
from mla.users.schemas import UserOut

PAGE_SIZE = 50
RESULTS_TARGET = "queue-results"


class QueueQuery(msgspec.Struct, kw_only=True):
    """The page's query string; an empty field ("any") is no filter."""

    bucket: QueueBucket | None = None
    type: RequestType | None = None
    urgency: Urgency | None = None
    target: uuid.UUID | None = None
    assignee: uuid.UUID | None = None
    instrument: Annotated[str, msgspec.Meta(max_length=32, pattern=r"\A[^\x00]*\Z")] | None = None
    q: SearchText | None = None
    order: QueueOrder = QueueOrder.PRIORITY
    cursor: Cursor | None = None

    def url(self, **changes: Any) -> str:
        """This page's address with `changes` (None removes a value); a new filter starts at the first page."""
        values = msgspec.structs.asdict(self) | {"cursor": None} | changes
        given = {name: str(value) for name, value in values.items() if value is not None}
        if given.get("order") == QueueOrder.PRIORITY:
            del given["order"]  # the default order needs no mention
        return f"/desk/queue?{urllib.parse.urlencode(given)}" if given else "/desk/queue"

    def filters(self) -> QueueFilters:
        return QueueFilters(
            type=self.type,
            urgency=self.urgency,
            target_id=self.target,
            assignee_id=self.assignee,
            instrument=self.instrument,
            q=self.q,
        )


async def officers(session: AsyncSession, principal: Principal) -> list[UserOut]:
    """The caller's colleagues who work the queue: whom a request can be assigned to from here."""
    colleagues = await users.list_users(session, principal.organisation_id, None, 200)
    return [user for user in colleagues.items if set(user.roles) & set(QUEUE_ROLES)]


class DeskQueueController(DeskController):
    path = "/queue"

    @get("/")
    async def show_queue(
        self, request: Request[Any, Any, Any], session: AsyncSession, clock: Clock, viewer: Viewer
    ) -> Template:
        query = as_input(request.query_params, QueueQuery)
        principal = viewer.principal
        listing = await queue.list_queue(
            session, clock, principal, query.bucket, query.cursor, PAGE_SIZE, query.filters(), query.order
        )
        context = {
            "query": query,
            "listing": listing,
            "officers": await officers(session, principal),
            "buckets": list(QueueBucket),
        }
        if is_htmx(request) and request.headers.get("HX-Target") == RESULTS_TARGET:
            return page(viewer, "_queue_results.html", **context)
        context |= {
            "targets": (await counterparties.list_counterparties(session, None, None, 200)).items,
            "instruments": await instruments.list_instruments(session),
            "types": list(RequestType),
            "urgencies": list(Urgency),
            "orders": list(QueueOrder),
        }
        return page(viewer, "queue.html", **context)

    @get("/counts")
    async def show_counts(
        self, request: Request[Any, Any, Any], session: AsyncSession, clock: Clock, viewer: Viewer
    ) -> Template:
        """The bucket links with fresh counts; the page polls this and reloads it after an assignment."""
        query = as_input(request.query_params, QueueQuery)
        counts = await queue.queue_counts(session, clock, viewer.principal)
        return page(viewer, "_buckets.html", query=query, counts=counts, buckets=list(QueueBucket))
