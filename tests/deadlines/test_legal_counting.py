"""Legal periods counted as Reg. (EEC, Euratom) No 1182/71 arts 3-4, with worked dates.

Art 3(1): the day of the event is not counted. Art 3(2)(b)-(c): a period in days, weeks or months
ends at the end of its last day. Art 3(4): a last day that is a Saturday, Sunday or public holiday
rolls to the end of the next working day. Art 3(5): a period of two days or more includes at least
two working days. Hours are exact elapsed time (the issue's decision).
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mla.deadlines.arithmetic import (
    Counting,
    Duration,
    DurationUnit,
    compute_due,
    keep_paused_time,
    resume_due,
)

DUBLIN = ZoneInfo("Europe/Dublin")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LEGAL = Counting.LEGAL


def days(amount: int) -> Duration:
    return Duration(amount, DurationUnit.CALENDAR_DAYS)


def legal_in_ireland(start: datetime, duration: Duration):
    return compute_due(
        start, duration, country="IE", timezone="Europe/Dublin", rule_name="EPOC response", counting=LEGAL
    )


def test_an_epoc_whose_tenth_day_is_a_saturday_ends_on_monday_at_the_end_of_the_day() -> None:
    """Reg. 2023/1543 art 10(3) with Reg. 1182/71 art 3(4): received Wed 4 Nov 2026 at 15:20 in Dublin;
    day 1 is Thu 5 Nov, day 10 is Sat 14 Nov: the period ends Mon 16 Nov 23:59:59 Dublin time."""
    due = legal_in_ireland(datetime(2026, 11, 4, 15, 20, tzinfo=DUBLIN), days(10))

    assert due.due_at == datetime(2026, 11, 16, 23, 59, 59, tzinfo=UTC)  # GMT in November
    assert due.skipped_days == (date(2026, 11, 14), date(2026, 11, 15))
    assert "ends Sat 14 Nov → Mon 16 Nov, end of day, Europe/Dublin; 14-15 Nov are a weekend" in due.explanation
    assert "the day of the event, 2026-11-04 Wed, is not counted" in due.explanation


def test_a_period_over_christmas_on_the_irish_calendar_rolls_past_saint_stephens_day() -> None:
    """Received Wed 16 Dec 2026: day 10 is Sat 26 Dec (St Stephen's Day); 25-26 Dec are Irish public
    holidays and 27 Dec a Sunday, so the period ends Mon 28 Dec at the end of the day (art 3(4))."""
    due = legal_in_ireland(datetime(2026, 12, 16, 9, 0, tzinfo=DUBLIN), days(10))

    assert due.due_at == datetime(2026, 12, 28, 23, 59, 59, tzinfo=UTC)
    assert "ends Sat 26 Dec → Mon 28 Dec, end of day, Europe/Dublin; 25-26 Dec are holidays" in due.explanation
    assert "2026-12-26 Sat (weekend; public holiday: Saint Stephen's Day)" in due.explanation


def test_the_time_of_day_of_the_event_does_not_matter_the_period_ends_at_the_end_of_its_last_day() -> None:
    """Art 3(1) and 3(2)(b): sent at 00:05 or at 23:55 on Mon 2 Nov 2026, 10 days end Thu 12 Nov 23:59:59."""
    early = legal_in_ireland(datetime(2026, 11, 2, 0, 5, tzinfo=DUBLIN), days(10))
    late = legal_in_ireland(datetime(2026, 11, 2, 23, 55, tzinfo=DUBLIN), days(10))

    assert early.due_at == late.due_at == datetime(2026, 11, 12, 23, 59, 59, tzinfo=UTC)
    assert early.skipped_days == ()


def test_the_day_of_the_event_is_the_day_in_the_calendar_of_the_party_who_must_act() -> None:
    """Sent Mon 2 Nov 2026 at 02:00 in Berlin, which is still Sun 1 Nov (20:00) in New York: a US
    provider's 10 days run from 1 Nov and end Wed 11 Nov, Veterans Day, so Thu 12 Nov 23:59:59 EST."""
    due = compute_due(
        datetime(2026, 11, 2, 2, 0, tzinfo=BERLIN),
        days(10),
        country="US",
        timezone="America/New_York",
        rule_name="EPOC response",
        counting=LEGAL,
        party="the provider Example Mail",
    )

    assert due.due_at == datetime(2026, 11, 12, 23, 59, 59, tzinfo=NEW_YORK)
    assert "Calendar: US, time zone America/New_York, of the provider Example Mail" in due.explanation
    assert "11 Nov is a holiday" in due.explanation


def test_a_period_in_months_ends_on_the_same_date_or_the_last_day_of_a_shorter_month() -> None:
    """Art 3(2)(c): one month from Mon 31 Aug 2026 ends Wed 30 Sep 2026 (no 31 September)."""
    due = legal_in_ireland(datetime(2026, 8, 31, 11, 0, tzinfo=DUBLIN), Duration(1, DurationUnit.MONTHS))

    assert due.due_at == datetime(2026, 9, 30, 23, 59, 59, tzinfo=DUBLIN)


def test_a_period_in_weeks_ends_on_the_same_weekday() -> None:
    """Art 3(2)(c): two weeks from Wed 4 Nov 2026 end Wed 18 Nov 2026 at the end of the day."""
    due = legal_in_ireland(datetime(2026, 11, 4, 11, 0, tzinfo=DUBLIN), Duration(2, DurationUnit.WEEKS))

    assert due.due_at == datetime(2026, 11, 18, 23, 59, 59, tzinfo=UTC)


def test_a_two_day_period_includes_at_least_two_working_days() -> None:
    """Art 3(5): from Thu 24 Dec 2026, 2 days end Sat 26 Dec, rolled to Mon 28 Dec (art 3(4)); that
    period holds one working day only (28 Dec), so it ends Tue 29 Dec at the end of the day."""
    due = legal_in_ireland(datetime(2026, 12, 24, 10, 0, tzinfo=DUBLIN), days(2))

    assert due.due_at == datetime(2026, 12, 29, 23, 59, 59, tzinfo=UTC)
    assert "at least two working days (art 3(5))" in due.explanation


def test_legal_business_days_end_at_the_end_of_the_last_business_day() -> None:
    """Business days skip weekends and holidays and end at 23:59:59 of the last one: from Wed 23 Dec
    2026, three Irish business days are Thu 24, Mon 28 and Tue 29 Dec."""
    due = legal_in_ireland(datetime(2026, 12, 23, 10, 0, tzinfo=DUBLIN), Duration(3, DurationUnit.BUSINESS_DAYS))

    assert due.due_at == datetime(2026, 12, 29, 23, 59, 59, tzinfo=UTC)


def test_legal_hours_are_exact_elapsed_time_and_never_roll_forward() -> None:
    """An emergency EPOC (art 10(4)): 8 hours from Sat 14 Nov 2026 20:00 is Sun 04:00, a Sunday kept."""
    due = legal_in_ireland(datetime(2026, 11, 14, 20, 0, tzinfo=DUBLIN), Duration(8, DurationUnit.HOURS))

    assert due.due_at == datetime(2026, 11, 15, 4, 0, tzinfo=UTC)


def test_the_end_of_day_is_local_time_across_a_change_to_summer_time() -> None:
    """Ten days from Fri 20 Mar 2026 end Mon 30 Mar (day 10 is Mon 30 Mar) at 23:59:59 IST (UTC+1)."""
    due = legal_in_ireland(datetime(2026, 3, 20, 9, 0, tzinfo=DUBLIN), days(10))

    assert due.due_at == datetime(2026, 3, 30, 22, 59, 59, tzinfo=UTC)


def test_elapsed_counting_keeps_the_start_time_of_day_and_never_rolls_forward() -> None:
    """Our own service levels keep the start's time: 10 days from Wed 4 Nov 15:20 is Sat 14 Nov 15:20."""
    due = compute_due(
        datetime(2026, 11, 4, 15, 20, tzinfo=DUBLIN),
        days(10),
        country="IE",
        timezone="Europe/Dublin",
        rule_name="follow-up",
        counting=Counting.ELAPSED,
    )

    assert due.due_at == datetime(2026, 11, 14, 15, 20, tzinfo=UTC)
    assert "Counting: elapsed" in due.explanation


def test_a_paused_legal_clock_does_not_count_the_days_of_its_pause() -> None:
    """Due Thu 12 Nov 2026; paused Wed 4 Nov, resumed Mon 9 Nov: the six days 4-9 Nov do not count,
    so the last day moves to Wed 18 Nov, end of day."""
    due_at = datetime(2026, 11, 12, 23, 59, 59, tzinfo=UTC)

    resumed, why = resume_due(
        due_at,
        datetime(2026, 11, 4, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 9, 16, 0, tzinfo=UTC),
        counting=LEGAL,
        unit=DurationUnit.CALENDAR_DAYS,
        country="IE",
        timezone="Europe/Dublin",
    )

    assert resumed == datetime(2026, 11, 18, 23, 59, 59, tzinfo=UTC)
    assert "the 6 days of the pause, Wed 4 Nov to Mon 9 Nov both included, do not count" in why


def test_a_legal_clock_paused_and_resumed_the_same_day_gives_that_day_back_and_rolls_forward() -> None:
    """Due Fri 13 Nov 2026; a pause on Wed 4 Nov gives the day back: Sat 14 Nov rolls to Mon 16 Nov."""
    resumed, why = resume_due(
        datetime(2026, 11, 13, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 11, 4, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 4, 12, 0, tzinfo=UTC),
        counting=LEGAL,
        unit=DurationUnit.CALENDAR_DAYS,
        country="IE",
        timezone="Europe/Dublin",
    )

    assert resumed == datetime(2026, 11, 16, 23, 59, 59, tzinfo=UTC)
    assert "rolled forward to Mon 16 Nov" in why


@pytest.mark.parametrize("counting", [Counting.ELAPSED, Counting.LEGAL])
def test_a_paused_clock_in_hours_keeps_its_exact_remaining_time(counting: Counting) -> None:
    resumed, _ = resume_due(
        datetime(2026, 11, 4, 18, 0, tzinfo=UTC),
        datetime(2026, 11, 4, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 5, 9, 0, tzinfo=UTC),
        counting=counting,
        unit=DurationUnit.HOURS,
        country="IE",
        timezone="Europe/Dublin",
    )

    assert resumed == datetime(2026, 11, 5, 15, 0, tzinfo=UTC)


def test_time_kept_from_earlier_pauses_moves_a_legal_end_by_whole_days() -> None:
    """Three days kept (a difference of 3 days and an hour across a clock change still rounds to 3)."""
    moved, _ = keep_paused_time(
        datetime(2026, 11, 12, 23, 59, 59, tzinfo=UTC),
        timedelta(days=3, hours=1),
        counting=LEGAL,
        unit=DurationUnit.CALENDAR_DAYS,
        country="IE",
        timezone="Europe/Dublin",
    )

    assert moved == datetime(2026, 11, 16, 23, 59, 59, tzinfo=UTC)  # Sun 15 Nov rolled to Mon 16 Nov
