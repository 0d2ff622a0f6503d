from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.guards import requires
from mla.pagination import DEFAULT_LIMIT
from mla.queue import service
from mla.queue.schemas import QueueBucket, QueuePage
from mla.users.principal import Principal


class QueueController(Controller):
    path = "/api/v1/queue"
    tags = ["queue"]
    guards = [requires(*service.QUEUE_ROLES)]

    @get(
        "/",
        summary="The central authority's triage queue: emergencies first, then earliest due",
        description="Open requests your organisation is responsible for, each with its next running deadline. "
        "`overdue`: past due; `due_soon`: due within 48 hours; `new`: under review or received and unassigned; "
        "`mine`: assigned to you; `unassigned`: assigned to nobody. `counts` covers every bucket.",
    )
    async def list_queue(
        self,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
        bucket: QueueBucket | None = None,
        cursor: str | None = Parameter(default=None, max_length=200),
        limit: int = Parameter(default=DEFAULT_LIMIT, ge=1, le=200),
    ) -> QueuePage:
        return await service.list_queue(session, clock, principal, bucket, cursor, limit)
