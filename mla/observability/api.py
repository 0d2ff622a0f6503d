from litestar import Controller, Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.observability import metrics


class MetricsController(Controller):
    path = "/metrics"
    tags = ["health"]
    include_in_schema = False

    @get("/", summary="Prometheus metrics")
    async def scrape(self, session: AsyncSession, state: State, clock: Clock) -> Response[bytes]:
        await metrics.refresh(session, state.redis, clock.now())
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
