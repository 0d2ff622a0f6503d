"""Statistics: the figures of `GET /stats` with bar charts drawn on the server (SVG), and their CSV."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Response, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.desk.formatting import plain
from mla.desk.pages import DeskController, Viewer, as_input, page
from mla.stats import service as stats
from mla.stats.api import CSV, attachment
from mla.stats.schemas import Period, Statistics


class StatsQuery(msgspec.Struct, kw_only=True):
    """The period as two dates of the user's calendar: `from` at 00:00, `to` included (until 24:00)."""

    from_: date | None = msgspec.field(name="from", default=None)
    to: date | None = None

    def period(self, zone: str) -> Period:
        def midnight(day: date | None) -> datetime | None:
            return None if day is None else datetime.combine(day, time(), ZoneInfo(zone))

        return Period(from_=midnight(self.from_), to=midnight(self.to and self.to + timedelta(days=1)))

    def query_string(self) -> str:
        given = {"from": self.from_, "to": self.to}
        return "&".join(f"{name}={value.isoformat()}" for name, value in given.items() if value is not None)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    width: float  # percent of the largest bar


def bars(counts: dict[str, int], *, names: bool = True) -> list[Bar]:
    """One bar per value, largest first; labels in plain words (`names=False` keeps them as given)."""
    largest = max(counts.values(), default=0) or 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [Bar(plain(label) if names else label, value, 100 * value / largest) for label, value in ordered]


def charts(figures: Statistics) -> dict[str, list[Bar]]:
    return {
        "By status": bars(figures.by_status),
        "By type": bars(figures.by_type),
        "By urgency": bars(figures.by_urgency),
        "By counterparty": bars({c.name: c.requests for c in figures.by_counterparty}, names=False),
    }


class DeskStatisticsController(DeskController):
    path = "/stats"

    @get("/")
    async def show_statistics(
        self, request: Request[Any, Any, Any], session: AsyncSession, clock: Clock, viewer: Viewer
    ) -> Template:
        query = as_input(request.query_params, StatsQuery)
        figures = await stats.statistics(session, clock, viewer.principal, query.period(viewer.zone))
        return page(viewer, "stats.html", query=query, figures=figures, charts=charts(figures))

    @get("/export.csv")
    async def export_statistics(
        self, request: Request[Any, Any, Any], session: AsyncSession, clock: Clock, viewer: Viewer
    ) -> Response[str]:
        """The API's CSV of the same figures, for the period on the page."""
        query = as_input(request.query_params, StatsQuery)
        text, generated_at = await stats.statistics_csv(session, clock, viewer.principal, query.period(viewer.zone))
        return Response(text, media_type=CSV, headers=attachment(stats.filename("mla-stats", generated_at)))
