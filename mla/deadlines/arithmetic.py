"""Deadline arithmetic (SPEC §6): when a clock started at a moment is due, and why.

Pure functions, no database and no clock: the caller passes every moment in. Calendar and
business days are counted on the organisation's local calendar and keep the start's local time
of day; hours are exact elapsed time. Every result is in UTC and carries an explanation a user
can check by hand.
"""

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


class DurationUnit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    BUSINESS_DAYS = "business_days"
    HOURS = "hours"


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


def compute_due(start: datetime, duration: Duration, *, country: str, timezone: str, rule_name: str) -> DueDate:
    """Compute when a clock of `duration` started at `start` is due.

    `country` is an ISO 3166 alpha-2 code (case-insensitive) whose public holidays business days
    skip; a country unknown to `holidays` skips weekends only, and the explanation says so.
    `timezone` is the organisation's IANA zone, used for days and the local time of day.
    Refuses (ValueError) a naive `start` and an unknown `timezone`.
    """
    _require_aware(start, "start")
    zone = _zone(timezone)
    local_start = start.astimezone(zone)
    lines = [
        f"Rule: {rule_name}.",
        f"Time zone: {timezone}.",
        f"Start: {_describe_moment(start, zone)}.",
    ]
    if duration.unit is DurationUnit.HOURS:
        due_at = start.astimezone(UTC) + timedelta(hours=duration.amount)
        skipped_days: tuple[date, ...] = ()
        lines.append(
            f"Duration: {duration.amount} hours of exact elapsed time "
            "(daylight saving changes do not lengthen or shorten it)."
        )
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


def _due_on_local_calendar(
    local_start: datetime, duration: Duration, country: str, zone: ZoneInfo
) -> tuple[datetime, tuple[date, ...], list[str]]:
    """Count calendar or business days on the local calendar, keeping the local time of day."""
    if duration.unit is DurationUnit.CALENDAR_DAYS:
        due_day = local_start.date() + timedelta(days=duration.amount)
        skipped_days: tuple[date, ...] = ()
        lines = [
            f"Duration: {duration.amount} calendar days: "
            f"{local_start.date().isoformat()} + {duration.amount} days = {due_day.isoformat()}."
        ]
    else:
        due_day, skipped_days, lines = _count_business_days(local_start.date(), duration.amount, country)
    due_at, wall_clock_note = _at_local_time(due_day, local_start.time(), zone)
    lines.append(f"The due time keeps the start's local time of day, {local_start:%H:%M:%S}.")
    if wall_clock_note:
        lines.append(wall_clock_note)
    return due_at, skipped_days, lines


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
    holiday_name = (_public_holidays(country, day.year) or {}).get(day)
    if holiday_name:
        reasons.append(f"public holiday: {holiday_name}")
    return "; ".join(reasons)


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
