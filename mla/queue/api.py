import uuid

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.enums import RequestType, Urgency
from mla.guards import requires
from mla.pagination import DEFAULT_LIMIT
from mla.queue import service
from mla.queue.repository import QueueFilters
from mla.queue.schemas import QueueBucket, QueueOrder, QueuePage
from mla.requests.api import REFERENCE_SEARCH
from mla.users.principal import Principal


def provide_queue_filters(
    type: RequestType | None = None,
    urgency: Urgency | None = None,
    target: uuid.UUID | None = None,
    assignee: uuid.UUID | None = None,
    instrument: str | None = Parameter(default=None, max_length=32, pattern=r"\A[^\x00]*\Z"),
    q: str | None = REFERENCE_SEARCH,
) -> QueueFilters:
    """The queue's filters, with the request list's parameter names."""
    return QueueFilters(type=type, urgency=urgency, target_id=target, assignee_id=assignee, instrument=instrument, q=q)


class QueueController(Controller):
    path = "/api/v1/queue"
    tags = ["queue"]
    guards = [requires(*service.QUEUE_ROLES)]

    @get(
        "/",
        dependencies={"filters": Provide(provide_queue_filters, sync_to_thread=False)},
    )
    async def list_queue(
        self,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
        filters: QueueFilters,
        bucket: QueueBucket | None = None,
        order: QueueOrder = QueueOrder.PRIORITY,
        cursor: str | None = Parameter(default=None, max_length=200),
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> QueuePage:
        """The central authority's triage queue: emergencies first, then earliest due

        Central authority officers and supervisors. Open requests your organisation is responsible for, each
        with its next running deadline. `overdue`: past due; `due_soon`: due within 48 hours; `new`: under
        review or received and unassigned; `mine`: assigned to you; `unassigned`: assigned to nobody. `counts`
        covers every bucket, unfiltered. `order=due`: earliest running deadline first, whatever the urgency.
        """
        return await service.list_queue(session, clock, principal, bucket, cursor, limit, filters, order)
