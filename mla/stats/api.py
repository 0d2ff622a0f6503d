"""Statistics (JSON and CSV) and the request list as a streamed CSV export (SPEC §9)."""

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import Annotated

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import QueryParameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.requests.api import provide_request_filters
from mla.requests.repository import RequestFilters
from mla.stats import service
from mla.stats.schemas import Period, Statistics
from mla.users.principal import Principal

CSV = "text/csv"  # Litestar adds "; charset=utf-8" to text types
PeriodFrom = Annotated[
    datetime | None,
    QueryParameter(name="from", description="RFC 3339 with an offset: requests created (deadlines due) at or after it"),
]
PeriodTo = Annotated[
    datetime | None,
    QueryParameter(name="to", description="RFC 3339 with an offset: requests created (deadlines due) before it"),
]


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


class StatsController(Controller):
    path = "/api/v1/stats"
    tags = ["stats"]

    @get("/")
    async def get_statistics(
        self,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
        period_from: PeriodFrom = None,
        to: PeriodTo = None,
    ) -> Statistics:
        """Counts, turnaround, overdue rate and lapses of your organisation's requests

        Any role of an organisation, over the requests it sees created between `from` and `to`: counts by
        status, type and counterparty; median and p90 time to first response and to fulfilment per counterparty
        (paused time excluded); overdue rate; preservation lapses.
        """
        return await service.statistics(session, clock, principal, Period(from_=period_from, to=to))

    @get("/export.csv", media_type=CSV)
    async def export_statistics(
        self,
        session: AsyncSession,
        clock: Clock,
        principal: Principal,
        period_from: PeriodFrom = None,
        to: PeriodTo = None,
    ) -> Response[str]:
        """The same figures as CSV: section, direction, key, label, measure, value

        Any role of an organisation; a `text/csv` attachment named after the moment it was computed. The export
        is recorded on the trail.
        """
        text, generated_at = await service.statistics_csv(session, clock, principal, Period(from_=period_from, to=to))
        return Response(text, media_type=CSV, headers=attachment(service.filename("mla-stats", generated_at)))


class RequestExportController(Controller):
    # A static segment: Litestar matches `/export.csv` before the `{request_id:uuid}` routes.
    path = "/api/v1/requests/export.csv"
    tags = ["requests"]

    @get(
        "/",
        media_type=CSV,
        dependencies={"filters": Provide(provide_request_filters, sync_to_thread=False)},
    )
    async def export_requests(
        self, session: AsyncSession, state: State, clock: Clock, principal: Principal, filters: RequestFilters
    ) -> Stream:
        """The request list as CSV, with the list's filters (streamed: any number of rows)

        Any role of an organisation; the same filters as `GET /api/v1/requests`. A `text/csv` attachment read on
        one snapshot; the export and its row count are recorded on the trail.
        """
        chunks = service.export_requests_csv(session, state.sessionmaker, clock, principal, filters)
        # Counts the rows and records the export in this request's transaction, committed before the answer starts.
        header = await anext(chunks)
        return Stream(
            starting_with(header, chunks),
            media_type=CSV,
            headers=attachment(service.filename("mla-requests", clock.now())),
        )


async def starting_with(first: str, rest: AsyncGenerator[str, None]) -> AsyncIterator[str]:
    try:
        yield first
        async for chunk in rest:
            yield chunk
    finally:
        await rest.aclose()  # the client may leave mid-file: end the read transaction now, not at garbage collection
