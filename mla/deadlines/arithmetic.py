"""Deadline arithmetic (SPEC §6): when a clock started at a moment is due, and why.

Pure functions, no database and no clock: the caller passes every moment in, and the calendar
(country and time zone) of the party who must act. Hours are always exact elapsed time. Longer
periods count in one of two ways:

- `legal` (periods taken from a legal text), as Regulation (EEC, Euratom) No 1182/71 arts 3-4:
  the day of the event is not counted; a period in days, weeks or months ends at the end of its
  last day (23:59:59 local time); a last day that is a Saturday, Sunday or public holiday of the
  calendar rolls forward to the end of the next working day (art 3(4)); a period of two days or
  more includes at least two working days (art 3(5)). Business days end at the end of the last
  business day.
- `elapsed` (our own service levels): the due moment keeps the start's local time of day.

A paused `legal` clock keeps whole days: the days on which it was paused, the day of the pause
and the day of the resumption included, do not count, so its last day moves by that many days and
is rolled forward again (a counterparty never loses part of a day to a pause). An `elapsed` clock
keeps the exact time it had left. Every result is in UTC and carries an explanation a user can
check by hand.
"""

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

# Saturday and Sunday, as date.weekday() numbers them.
WEEKEND_DAYS: frozenset[int] = frozenset({5, 6})
WEEKDAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Pinned so the explanation does not depend on the server's locale.
HOLIDAY_NAMES_LANGUAGE = "en_US"


END_OF_DAY = time(23, 59, 59)
MONTH_NAMES: tuple[str, ...] = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LEGAL_COUNTING_SOURCE = "Reg. (EEC, Euratom) No 1182/71 arts 3-4"


class DurationUnit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    BUSINESS_DAYS = "business_days"
    WEEKS = "weeks"
    MONTHS = "months"
    HOURS = "hours"


class Counting(StrEnum):
    """How a period that is not in hours ends (module docstring)."""

    LEGAL = "legal"
    ELAPSED = "elapsed"


@dataclass(frozen=True)
class Duration:
    """One clock length, e.g. 10 business days; refuses an amount that is not a positive int."""

    amount: int
    unit: DurationUnit

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise ValueError(f"a duration amount must be a positive integer, got {self.amount!r}")
        if not isinstance(self.unit, DurationUnit):
            raise ValueError(f"unknown duration unit {self.unit!r}")


@dataclass(frozen=True)
class DueDate:
    """A computed due moment (aware, UTC), how it was computed, and the days skipped to get it."""

    due_at: datetime
    explanation: str
    skipped_days: tuple[date, ...]


def compute_due(
    start: datetime,
    duration: Duration,
    *,
    country: str,
    timezone: str,
    rule_name: str,
    counting: Counting = Counting.ELAPSED,
    party: str = "",
) -> DueDate:
    """Compute when a clock of `duration` started at `start` is due.

    `country` is an ISO 3166 alpha-2 code (case-insensitive) whose public holidays business days
    skip and legal periods roll over; a country unknown to `holidays` has weekends only, and the
    explanation says so. `timezone` is the IANA zone of the party who must act (`party` names it
    in the explanation), used for days and the local time of day. Refuses (ValueError) a naive
    `start` and an unknown `timezone`.
    """
    _require_aware(start, "start")
    zone = _zone(timezone)
    local_start = start.astimezone(zone)
    lines = [
        f"Rule: {rule_name}.",
        f"Calendar: {country.upper()}, time zone {timezone}" + (f", of {party} (who must act)." if party else "."),
        f"Start: {_describe_moment(start, zone)}.",
    ]
    if duration.unit is DurationUnit.HOURS:
        due_at = start.astimezone(UTC) + timedelta(hours=duration.amount)
        skipped_days: tuple[date, ...] = ()
        lines.append(
            f"Duration: {duration.amount} hours of exact elapsed time "
            "(daylight saving changes do not lengthen or shorten it)."
        )
    elif counting is Counting.LEGAL:
        due_at, skipped_days, day_lines = _legal_end(local_start.date(), duration, country.upper(), zone)
        lines.extend(day_lines)
    else:
        due_at, skipped_days, day_lines = _due_on_local_calendar(local_start, duration, country.upper(), zone)
        lines.extend(day_lines)
    lines.append(f"Due: {_describe_moment(due_at, zone)}.")
    return DueDate(due_at=due_at, explanation="\n".join(lines), skipped_days=skipped_days)


def remaining_time(due_at: datetime, paused_at: datetime) -> timedelta:
    """Time left on a clock paused at `paused_at`; negative if it was paused after it was due.

    Refuses (ValueError) naive datetimes.
    """
    _require_aware(due_at, "due_at")
    _require_aware(paused_at, "paused_at")
    return due_at - paused_at


def add_remaining(resume_at: datetime, remaining: timedelta) -> datetime:
    """New due moment (UTC) of a paused clock resumed at `resume_at` with `remaining` time kept.

    The remaining time is exact elapsed time, whatever unit the rule counted in.
    Refuses (ValueError) a naive `resume_at`.
    """
    _require_aware(resume_at, "resume_at")
    return resume_at.astimezone(UTC) + remaining


def keep_paused_time(
    due_at: datetime, paused: timedelta, *, counting: Counting, unit: DurationUnit, country: str, timezone: str
) -> tuple[datetime, str]:
    """`due_at` moved later by the time a pause kept, and a sentence saying how.

    An `elapsed` clock or one in hours moves by exactly `paused`; a `legal` clock in days moves its
    last day by `paused` rounded to whole days and ends at the end of that day, rolled forward to a
    working day. Refuses (ValueError) a naive `due_at`.
    """
    _require_aware(due_at, "due_at")
    if counting is Counting.ELAPSED or unit is DurationUnit.HOURS:
        return due_at.astimezone(UTC) + paused, f"the due moment moves by the time kept, {paused}"
    days = round(paused / timedelta(days=1))
    zone = _zone(timezone)
    last_day = due_at.astimezone(zone).date() + timedelta(days=days)
    end_day, rolled = _next_working_day(last_day, country.upper())
    moved = f"the last day moves {days} days later, to {_short_day(last_day)}"
    if rolled:
        moved += f", not a working day: rolled forward to {_short_day(end_day)}"
    return _end_of(end_day, zone), moved


def resume_due(
    due_at: datetime,
    paused_at: datetime,
    resumed_at: datetime,
    *,
    counting: Counting,
    unit: DurationUnit,
    country: str,
    timezone: str,
) -> tuple[datetime, str]:
    """The due moment of a clock paused at `paused_at` and resumed at `resumed_at`, and why.

    `elapsed` clocks and clocks in hours keep their exact remaining time; `legal` clocks in days do
    not count the days of the pause, both its first and its last day included (module docstring).
    Refuses (ValueError) naive datetimes.
    """
    _require_aware(paused_at, "paused_at")
    _require_aware(resumed_at, "resumed_at")
    if counting is Counting.ELAPSED or unit is DurationUnit.HOURS:
        remaining = remaining_time(due_at, paused_at)
        return add_remaining(resumed_at, remaining), f"the remaining time, {remaining}, was kept"
    zone = _zone(timezone)
    first, last = paused_at.astimezone(zone).date(), resumed_at.astimezone(zone).date()
    days = (last - first).days + 1
    new_due, moved = keep_paused_time(
        due_at, timedelta(days=days), counting=counting, unit=unit, country=country, timezone=timezone
    )
    return new_due, (
        f"the {days} days of the pause, {_short_day(first)} to {_short_day(last)} both included, do not count: {moved}"
    )


def _due_on_local_calendar(
    local_start: datetime, duration: Duration, country: str, zone: ZoneInfo
) -> tuple[datetime, tuple[date, ...], list[str]]:
    """Count calendar days, weeks, months or business days, keeping the local time of day (`elapsed`)."""
    lines = ["Counting: elapsed (own service level): the due time keeps the start's local time of day."]
    if duration.unit is DurationUnit.BUSINESS_DAYS:
        due_day, skipped_days, day_lines = _count_business_days(local_start.date(), duration.amount, country)
        lines.extend(day_lines)
    else:
        due_day = _last_day(local_start.date(), duration)
        skipped_days = ()
        length = _describe_duration(duration)
        lines.append(f"Duration: {length}: {local_start.date().isoformat()} + {length} = {due_day.isoformat()}.")
    due_at, wall_clock_note = _at_local_time(due_day, local_start.time(), zone)
    lines.append(f"The due time keeps the start's local time of day, {local_start:%H:%M:%S}.")
    if wall_clock_note:
        lines.append(wall_clock_note)
    return due_at, skipped_days, lines


def _legal_end(
    event_day: date, duration: Duration, country: str, zone: ZoneInfo
) -> tuple[datetime, tuple[date, ...], list[str]]:
    """The end of a `legal` period in days, weeks, months or business days (module docstring)."""
    lines = [
        f"Counting: legal ({LEGAL_COUNTING_SOURCE}): the day of the event, {_describe_day(event_day)}, is not "
        "counted; the period ends at the end of its last day, 23:59:59 local time."
    ]
    if duration.unit is DurationUnit.BUSINESS_DAYS:
        end_day, skipped, day_lines = _count_business_days(event_day, duration.amount, country)
        lines.extend(day_lines)
    else:
        last_day = _last_day(event_day, duration)
        first_day = event_day + timedelta(days=1)
        lines.append(
            f"Duration: {_describe_duration(duration)}: the first day is {_describe_day(first_day)}, "
            f"the last day {_describe_day(last_day)}."
        )
        end_day, skipped = _next_working_day(last_day, country)
        if skipped:
            lines.append(_rolled_forward(event_day, last_day, end_day, country, zone))
        rolled_end = end_day
        end_day, added = _at_least_two_working_days(event_day, last_day, end_day, country)
        if end_day != rolled_end:
            lines.append(
                f"A period of two days or more includes at least two working days (art 3(5)): "
                f"it ends on {_describe_day(end_day)}."
            )
            skipped += added
    due_at, _ = _at_local_time(end_day, END_OF_DAY, zone)
    lines.append(f"Ends {_short_day(end_day)}, end of day, {zone.key}.")
    return due_at, skipped, lines


def _last_day(event_day: date, duration: Duration) -> date:
    """The last day of a period in calendar days, weeks or months from `event_day` (art 3(2)(b)-(c)).

    A period in months ends on the same date of the last month, or on that month's last day when
    the date does not exist in it (31 January + 1 month = 28 or 29 February).
    """
    if duration.unit is DurationUnit.MONTHS:
        months = event_day.month - 1 + duration.amount
        year, month = event_day.year + months // 12, months % 12 + 1
        return date(year, month, min(event_day.day, calendar.monthrange(year, month)[1]))
    days = duration.amount * (7 if duration.unit is DurationUnit.WEEKS else 1)
    return event_day + timedelta(days=days)


def _next_working_day(day: date, country: str) -> tuple[date, tuple[date, ...]]:
    """`day` if it is a working day, else the next one; and the days passed over (art 3(4))."""
    passed: list[date] = []
    while _non_business_reason(day, country):
        passed.append(day)
        day += timedelta(days=1)
    return day, tuple(passed)


def _at_least_two_working_days(
    event_day: date, last_day: date, end_day: date, country: str
) -> tuple[date, tuple[date, ...]]:
    """Art 3(5): a period of two days or more includes at least two working days; the days it adds."""
    if (last_day - event_day).days < 2:
        return end_day, ()
    working = sum(
        1
        for n in range(1, (end_day - event_day).days + 1)
        if not _non_business_reason(event_day + timedelta(days=n), country)
    )
    added: list[date] = []
    while working < 2:
        end_day += timedelta(days=1)
        if _non_business_reason(end_day, country):
            added.append(end_day)
        else:
            working += 1
    return end_day, tuple(added)


def _rolled_forward(event_day: date, last_day: date, end_day: date, country: str, zone: ZoneInfo) -> str:
    """E.g. "ends Sat 26 Dec → Mon 28 Dec, end of day, Europe/Dublin; 25-26 Dec are holidays".

    Names the holidays and weekend days of the run of days off the last day falls in.
    """
    run_start = last_day
    while run_start - timedelta(days=1) > event_day and _non_business_reason(run_start - timedelta(days=1), country):
        run_start -= timedelta(days=1)
    run = [run_start + timedelta(days=n) for n in range((end_day - run_start).days)]
    holidays_in_period = [day for day in run if _holiday_name(day, country)]
    weekend = [day for day in run if day >= last_day and day.weekday() in WEEKEND_DAYS]
    reasons = []
    if holidays_in_period:
        reasons.append(
            _day_ranges(holidays_in_period) + (" is a holiday" if len(holidays_in_period) == 1 else " are holidays")
        )
    if weekend:
        reasons.append(_day_ranges(weekend) + (" is a weekend day" if len(weekend) == 1 else " are a weekend"))
    details = ", ".join(f"{_describe_day(day)} ({_non_business_reason(day, country)})" for day in run)
    return (
        f"The last day is not a working day, so the period ends at the end of the next working day "
        f"(art 3(4)): ends {_short_day(last_day)} → {_short_day(end_day)}, end of day, {zone.key}; "
        f"{'; '.join(reasons)}. Not working days: {details}."
    )


def _count_business_days(start_day: date, amount: int, country: str) -> tuple[date, tuple[date, ...], list[str]]:
    """Walk `amount` business days after `start_day`; return the day reached, skips, and why."""
    if _public_holidays(country, start_day.year) is None:
        skipping = (
            f"Saturdays and Sundays only: country {country!r} is unknown to the holidays "
            "package, so no public holidays were skipped"
        )
    else:
        skipping = f"Saturdays, Sundays and the public holidays of {country} (holidays {holidays.__version__})"
    lines = [f"Duration: {amount} business days, skipping {skipping}."]
    start_reason = _non_business_reason(start_day, country)
    if start_reason:
        lines.append(
            f"The start day {_describe_day(start_day)} is not a business day ({start_reason}); "
            "it is still the start and counting begins the next day."
        )
    day, counted = start_day, 0
    skipped: list[date] = []
    skipped_notes: list[str] = []
    while counted < amount:
        day += timedelta(days=1)
        reason = _non_business_reason(day, country)
        if reason:
            skipped.append(day)
            skipped_notes.append(f"{_describe_day(day)} ({reason})")
        else:
            counted += 1
    lines.append("Skipped: " + (", ".join(skipped_notes) if skipped_notes else "none") + ".")
    lines.append(f"Business day {amount} is {_describe_day(day)}.")
    return day, tuple(skipped), lines


def _non_business_reason(day: date, country: str) -> str:
    """Why `day` is not a business day ("weekend", "public holiday: X", both), or "" if it is."""
    reasons = ["weekend"] if day.weekday() in WEEKEND_DAYS else []
    holiday_name = _holiday_name(day, country)
    if holiday_name:
        reasons.append(f"public holiday: {holiday_name}")
    return "; ".join(reasons)


def _holiday_name(day: date, country: str) -> str | None:
    return (_public_holidays(country, day.year) or {}).get(day)


@cache
def _public_holidays(country: str, year: int) -> Mapping[date, str] | None:
    """The public holidays of `country` in `year` by date, or None if the country is unknown."""
    try:
        calendar = holidays.country_holidays(country, years=year, language=HOLIDAY_NAMES_LANGUAGE)
    except NotImplementedError:
        return None
    # Read-only: the cached mapping is shared by every caller.
    return MappingProxyType(dict(calendar))


def _at_local_time(day: date, time_of_day: time, zone: ZoneInfo) -> tuple[datetime, str]:
    """The UTC moment of `time_of_day` on `day` in `zone`, and a note if the wall clock skipped it.

    A time inside a spring-forward gap or a fall-back overlap is read with fold=0 (the offset in
    force before the change) and normalised through UTC, so the answer is deterministic.
    """
    wall_clock = datetime.combine(day, time_of_day.replace(fold=0), tzinfo=zone)
    due_at = wall_clock.astimezone(UTC)
    shown = f"{wall_clock:%Y-%m-%d %H:%M:%S}"
    if due_at.astimezone(zone).replace(tzinfo=None) != wall_clock.replace(tzinfo=None):
        return due_at, (
            f"Local time {shown} does not exist in {zone.key} (clocks go forward); "
            f"it was read with the earlier offset and normalised to "
            f"{due_at.astimezone(zone):%H:%M:%S %Z} local time."
        )
    if wall_clock.utcoffset() != wall_clock.replace(fold=1).utcoffset():
        return due_at, (
            f"Local time {shown} occurs twice in {zone.key} (clocks go back); "
            f"the first occurrence, {wall_clock:%Z}, was used."
        )
    return due_at, ""


def _describe_moment(moment: datetime, zone: ZoneInfo) -> str:
    """`moment` in local time with zone abbreviation and offset, then in UTC."""
    local = moment.astimezone(zone)
    return (
        f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} (UTC{_describe_offset(local)}) local, "
        f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    )


def _describe_offset(local: datetime) -> str:
    """The UTC offset of an aware datetime as +HH:MM."""
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _end_of(day: date, zone: ZoneInfo) -> datetime:
    """23:59:59 local time on `day`, in UTC."""
    return _at_local_time(day, END_OF_DAY, zone)[0]


def _short_day(day: date) -> str:
    """`day` as e.g. "Sat 26 Dec" (the year is in the ISO dates around it)."""
    return f"{WEEKDAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]}"


def _day_ranges(days: list[date]) -> str:
    """Consecutive days as ranges: "25-26 Dec", "31 Dec-1 Jan", "1 May and 8 May"."""
    ranges: list[list[date]] = []
    for day in sorted(days):
        if ranges and day - ranges[-1][-1] == timedelta(days=1):
            ranges[-1].append(day)
        else:
            ranges.append([day])
    shown = []
    for first, *rest in ranges:
        last = rest[-1] if rest else first
        if first == last:
            shown.append(f"{first.day} {MONTH_NAMES[first.month - 1]}")
        elif first.month == last.month:
            shown.append(f"{first.day}-{last.day} {MONTH_NAMES[first.month - 1]}")
        else:
            shown.append(f"{first.day} {MONTH_NAMES[first.month - 1]}-{last.day} {MONTH_NAMES[last.month - 1]}")
    return " and ".join(shown)


def _describe_duration(duration: Duration) -> str:
    return f"{duration.amount} {duration.unit.value.replace('_', ' ')}"


def _describe_day(day: date) -> str:
    """`day` as ISO date and English weekday, e.g. 2024-04-01 Mon (not locale-dependent)."""
    return f"{day.isoformat()} {WEEKDAY_NAMES[day.weekday()]}"


def _zone(timezone: str) -> ZoneInfo:
    """The IANA zone named `timezone`; refuses (ValueError) an unknown name."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {timezone!r}") from error


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment!r}")
