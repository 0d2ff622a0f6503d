"""What `GET /api/v1/stats` answers. The definitions behind each figure are in `mla.stats.repository`."""

import uuid
from datetime import datetime

import msgspec

from mla.enums import Direction


class Period(msgspec.Struct, kw_only=True):
    """The half-open window asked for: `from` ≤ t < `to`; null is an open end."""

    from_: datetime | None = msgspec.field(name="from", default=None)
    to: datetime | None = None


class CounterpartyCount(msgspec.Struct, kw_only=True):
    """Requests whose target is this counterparty."""

    id: uuid.UUID
    name: str
    requests: int


class Turnaround(msgspec.Struct, kw_only=True):
    """One duration measured over `requests` requests, in days with paused time taken out.

    `median_days` and `p90_days` are PostgreSQL's `percentile_cont` (interpolated), rounded to
    4 decimals (under 9 seconds); both null when no request was measured.
    """

    requests: int
    median_days: float | None
    p90_days: float | None


class CounterpartyTurnaround(msgspec.Struct, kw_only=True):
    """Turnaround of the requests of one direction with this counterparty as the target."""

    direction: Direction
    counterparty_id: uuid.UUID
    counterparty_name: str
    first_response: Turnaround  # outgoing only: always zero requests on an incoming row
    fulfilment: Turnaround


class InstrumentTurnaround(msgspec.Struct, kw_only=True):
    """Turnaround of the requests of one direction resting on this instrument."""

    direction: Direction
    instrument: str
    instrument_title: str
    first_response: Turnaround
    fulfilment: Turnaround


class OverdueRate(msgspec.Struct, kw_only=True):
    """Of the deadlines that came due in the period, the share that was overdue (null when none came due)."""

    came_due: int
    overdue: int
    met_on_time: int
    rate: float | None


class Statistics(msgspec.Struct, kw_only=True):
    """The figures of one organisation's requests in one period.

    - `requests`: requests created in the period; `by_status`, `by_type`, `by_direction`,
      `by_urgency` split them by every value of the vocabulary (zeros included), `by_counterparty`
      by target (only counterparties with requests, most requests first).
    - `turnaround_by_counterparty`, `turnaround_by_instrument`: time to first response and to
      fulfilment, per direction.
    - `overdue`: the overdue rate of the deadlines that came due in the period.
    - `preservations_lapsed`: requests of the period that reached `expired`.
    - `generated_at`: the moment the figures were computed (deadlines still open count as of it).
    """

    period: Period
    generated_at: datetime
    requests: int
    by_status: dict[str, int]
    by_type: dict[str, int]
    by_direction: dict[str, int]
    by_urgency: dict[str, int]
    by_counterparty: list[CounterpartyCount]
    turnaround_by_counterparty: list[CounterpartyTurnaround]
    turnaround_by_instrument: list[InstrumentTurnaround]
    overdue: OverdueRate
    preservations_lapsed: int
