"""Statistics of the caller's organisation and the CSV exports (SPEC §9).

The figures and their definitions come from `mla.stats.repository`; this module shapes them.

The statistics CSV (`statistics_rows`) is one table, one figure per row, with the columns
`section, direction, key, label, measure, value` (value empty when null):

- `requests, , all, , count, N`: requests in the period;
- `status` | `type` | `direction` | `urgency`, `, <value>, <value>, count, N`: every value listed;
- `counterparty, , <counterparty id>, <name>, count, N`;
- `turnaround_by_counterparty, <direction>, <counterparty id>, <name>, <measure>, V` and
  `turnaround_by_instrument, <direction>, <instrument code>, <title>, <measure>, V`, six measures
  each: `first_response_requests`, `first_response_median_days`, `first_response_p90_days`,
  `fulfilment_requests`, `fulfilment_median_days`, `fulfilment_p90_days`;
- `overdue, , deadlines, , <came_due | overdue | met_on_time | rate>, V`;
- `preservations, , lapsed, , count, N`.

Every text cell goes through `mla.stats.csv_format` (quoting, formula injection neutralised).
"""

from collections.abc import AsyncGenerator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.audit import reads
from mla.clock import Clock
from mla.enums import Direction, RequestStatus, RequestType, Urgency
from mla.errors import Unprocessable
from mla.requests.repository import RequestFilters
from mla.stats import repository
from mla.stats.csv_format import csv_text
from mla.stats.schemas import (
    CounterpartyCount,
    CounterpartyTurnaround,
    InstrumentTurnaround,
    OverdueRate,
    Period,
    Statistics,
    Turnaround,
)
from mla.users.principal import Principal

STATISTICS_COLUMNS = ("section", "direction", "key", "label", "measure", "value")
EXPORT_BATCH_ROWS = 500  # rows fetched from the server-side cursor, and written, at a time
DECIMALS = 4


async def statistics(session: AsyncSession, clock: Clock, actor: Principal, period: Period) -> Statistics:
    """The figures of the requests the actor's organisation sees; a naive or reversed period is 422."""
    window = _window(period)
    now = clock.now()
    counts = await repository.request_counts(session, actor, window)
    by_status = dict.fromkeys(RequestStatus, 0)
    by_type = dict.fromkeys(RequestType, 0)
    by_direction = dict.fromkeys(Direction, 0)
    by_urgency = dict.fromkeys(Urgency, 0)
    by_counterparty = []
    for row in counts:  # exactly one dimension is set per row (GROUPING SETS)
        if row.status is not None:
            by_status[row.status] = row.requests
        elif row.type is not None:
            by_type[row.type] = row.requests
        elif row.direction is not None:
            by_direction[row.direction] = row.requests
        elif row.urgency is not None:
            by_urgency[row.urgency] = row.requests
        else:
            by_counterparty.append(CounterpartyCount(id=row.target_id, name=row.target_name, requests=row.requests))
    by_counterparty.sort(key=lambda c: (-c.requests, c.name))

    per_counterparty, per_instrument = [], []
    for row in await repository.turnarounds(session, actor, window):
        first_response = _turnaround(row, "first_response")
        fulfilment = _turnaround(row, "fulfilment")
        if row.target_id is not None:
            per_counterparty.append(
                CounterpartyTurnaround(
                    direction=row.direction,
                    counterparty_id=row.target_id,
                    counterparty_name=row.target_name,
                    first_response=first_response,
                    fulfilment=fulfilment,
                )
            )
        else:
            per_instrument.append(
                InstrumentTurnaround(
                    direction=row.direction,
                    instrument=row.instrument,
                    instrument_title=row.instrument_title,
                    first_response=first_response,
                    fulfilment=fulfilment,
                )
            )

    deadlines = await repository.overdue_counts(session, actor, window, now)
    came_due = deadlines.overdue + deadlines.met_on_time
    return Statistics(
        period=Period(from_=window.start, to=window.end),  # as asked, in UTC
        generated_at=now,
        requests=sum(by_direction.values()),
        by_status={str(k): v for k, v in by_status.items()},
        by_type={str(k): v for k, v in by_type.items()},
        by_direction={str(k): v for k, v in by_direction.items()},
        by_urgency={str(k): v for k, v in by_urgency.items()},
        by_counterparty=by_counterparty,
        turnaround_by_counterparty=per_counterparty,
        turnaround_by_instrument=per_instrument,
        overdue=OverdueRate(
            came_due=came_due,
            overdue=deadlines.overdue,
            met_on_time=deadlines.met_on_time,
            rate=round(deadlines.overdue / came_due, DECIMALS) if came_due else None,
        ),
        preservations_lapsed=by_status[RequestStatus.EXPIRED],
    )


def _window(period: Period) -> repository.Window:
    start, end = _utc("from", period.from_), _utc("to", period.to)
    if start is not None and end is not None and start > end:
        raise Unprocessable("`from` is after `to`.", errors=[{"field": "from", "message": "must not be after `to`"}])
    return repository.Window(start, end)


def _utc(name: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.utcoffset() is None:
        raise Unprocessable(
            f"`{name}` needs a UTC offset (RFC 3339).", errors=[{"field": name, "message": "needs an offset"}]
        )
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise Unprocessable(f"`{name}` is out of range.", errors=[{"field": name, "message": "out of range"}]) from exc


def _turnaround(row: Any, measure: str) -> Turnaround:
    return Turnaround(
        requests=getattr(row, f"{measure}_requests"),
        median_days=_days(getattr(row, f"{measure}_median")),
        p90_days=_days(getattr(row, f"{measure}_p90")),
    )


def _days(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), DECIMALS)


def statistics_rows(stats: Statistics) -> Iterator[tuple[Any, ...]]:
    """The figures as rows of `STATISTICS_COLUMNS` (table in the module docstring)."""
    yield "requests", "", "all", "", "count", stats.requests
    for section, counts in (
        ("status", stats.by_status),
        ("type", stats.by_type),
        ("direction", stats.by_direction),
        ("urgency", stats.by_urgency),
    ):
        for key, count in counts.items():
            yield section, "", key, key, "count", count
    for counterparty in stats.by_counterparty:
        yield "counterparty", "", counterparty.id, counterparty.name, "count", counterparty.requests
    for row in stats.turnaround_by_counterparty:
        yield from _turnaround_rows(
            "turnaround_by_counterparty", row.direction, row.counterparty_id, row.counterparty_name, row
        )
    for row in stats.turnaround_by_instrument:
        yield from _turnaround_rows(
            "turnaround_by_instrument", row.direction, row.instrument, row.instrument_title, row
        )
    overdue = stats.overdue
    for measure, value in (
        ("came_due", overdue.came_due),
        ("overdue", overdue.overdue),
        ("met_on_time", overdue.met_on_time),
        ("rate", overdue.rate),
    ):
        yield "overdue", "", "deadlines", "", measure, value
    yield "preservations", "", "lapsed", "", "count", stats.preservations_lapsed


def _turnaround_rows(
    section: str, direction: str, key: Any, label: str, row: CounterpartyTurnaround | InstrumentTurnaround
) -> Iterator[tuple[Any, ...]]:
    for name, turnaround in (("first_response", row.first_response), ("fulfilment", row.fulfilment)):
        yield section, direction, key, label, f"{name}_requests", turnaround.requests
        yield section, direction, key, label, f"{name}_median_days", turnaround.median_days
        yield section, direction, key, label, f"{name}_p90_days", turnaround.p90_days


async def statistics_csv(session: AsyncSession, clock: Clock, actor: Principal, period: Period) -> tuple[str, datetime]:
    """The figures as CSV text and the moment they were computed; the export is recorded (one event)."""
    stats = await statistics(session, clock, actor, period)
    rows = list(statistics_rows(stats))
    await reads.record_export(session, clock, actor, "export_statistics", query=reads.query_of(period), rows=len(rows))
    return csv_text([STATISTICS_COLUMNS, *rows]), stats.generated_at


EXPORT_HEADER = tuple(name for name, _ in repository.EXPORT_COLUMNS)


async def export_requests_csv(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    actor: Principal,
    filters: RequestFilters,
) -> AsyncGenerator[str, None]:
    """The filtered request list as CSV chunks, read through a server-side cursor in constant memory.

    The rows are read in a REPEATABLE READ transaction of their own (a streamed body is sent after
    the request's transaction ended), counted first on that same snapshot, and the export is
    recorded with the count in `session`, the request's transaction, before the header is yielded.
    The API takes the header before it answers, so the event is committed before any row leaves
    and a failure to record it is an error answer, not a truncated file.
    """
    async with sessionmaker() as reader, reader.begin():
        await reader.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        rows = await repository.export_row_count(reader, actor, filters)
        query = reads.query_of(filters)
        await reads.record_export(session, clock, actor, "export_requests", query=query, rows=rows)
        yield csv_text([EXPORT_HEADER])
        async for batch in repository.export_batches(reader, actor, filters, EXPORT_BATCH_ROWS):
            yield csv_text(batch)


def filename(prefix: str, now: datetime) -> str:
    """`prefix-20261102T090000Z.csv`: names sort by the moment they were made."""
    return f"{prefix}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.csv"
