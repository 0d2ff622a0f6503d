"""Deadline arithmetic (SPEC §6): calendar days, business days, hours, DST, holidays, pauses."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mla.deadlines.arithmetic import (
    Duration,
    DurationUnit,
    add_remaining,
    compute_due,
    remaining_time,
)

BERLIN = ZoneInfo("Europe/Berlin")
PARIS = ZoneInfo("Europe/Paris")


def business_days(amount: int) -> Duration:
    return Duration(amount, DurationUnit.BUSINESS_DAYS)


def calendar_days(amount: int) -> Duration:
    return Duration(amount, DurationUnit.CALENDAR_DAYS)


def hours(amount: int) -> Duration:
    return Duration(amount, DurationUnit.HOURS)


def due_in_germany(start: datetime, duration: Duration) -> datetime:
    return compute_due(start, duration, country="DE", timezone="Europe/Berlin", rule_name="test rule").due_at


def test_ten_business_days_skip_weekend_and_easter_monday() -> None:
    # Thu 28 March 2024; Good Friday 29 March and Easter Monday 1 April are German holidays.
    due = compute_due(
        datetime(2024, 3, 28, 9, 0, tzinfo=BERLIN),
        business_days(10),
        country="DE",
        timezone="Europe/Berlin",
        rule_name="EPOC response",
    )

    assert due.due_at == datetime(2024, 4, 15, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert due.skipped_days == (
        date(2024, 3, 29),
        date(2024, 3, 30),
        date(2024, 3, 31),
        date(2024, 4, 1),
        date(2024, 4, 6),
        date(2024, 4, 7),
        date(2024, 4, 13),
        date(2024, 4, 14),
    )


def test_explanation_names_the_skipped_holiday_start_rule_zone_and_result() -> None:
    due = compute_due(
        datetime(2024, 3, 28, 9, 0, tzinfo=BERLIN),
        business_days(10),
        country="DE",
        timezone="Europe/Berlin",
        rule_name="EPOC response",
    )

    assert "EPOC response" in due.explanation
    assert "Europe/Berlin" in due.explanation
    assert "10 business days" in due.explanation
    assert "2024-03-28 09:00:00 CET (UTC+01:00) local, 2024-03-28 08:00:00 UTC" in due.explanation
    assert "2024-04-01 Mon (public holiday: Easter Monday)" in due.explanation
    assert "2024-03-29 Fri (public holiday: Good Friday)" in due.explanation
    assert "2024-03-30 Sat (weekend)" in due.explanation
    assert "2024-04-15 09:00:00 CEST (UTC+02:00) local, 2024-04-15 07:00:00 UTC" in due.explanation


def test_french_labour_day_is_skipped() -> None:
    # Tue 30 April 2024; 1 May is a French public holiday, then a weekend.
    due = compute_due(
        datetime(2024, 4, 30, 16, 0, tzinfo=PARIS),
        business_days(3),
        country="FR",
        timezone="Europe/Paris",
        rule_name="internal review",
    )

    assert due.due_at == datetime(2024, 5, 6, 14, 0, tzinfo=UTC)  # Mon 16:00 CEST
    assert due.skipped_days == (date(2024, 5, 1), date(2024, 5, 4), date(2024, 5, 5))
    assert "2024-05-01 Wed (public holiday: Labor Day)" in due.explanation


def test_one_business_day_from_friday_skips_the_weekend() -> None:
    due = compute_due(
        datetime(2024, 6, 14, 10, 0, tzinfo=BERLIN),
        business_days(1),
        country="DE",
        timezone="Europe/Berlin",
        rule_name="internal review",
    )

    assert due.due_at == datetime(2024, 6, 17, 8, 0, tzinfo=UTC)  # Mon 10:00 CEST
    assert due.skipped_days == (date(2024, 6, 15), date(2024, 6, 16))


def test_business_days_started_on_a_saturday_count_from_the_next_day() -> None:
    due = compute_due(
        datetime(2024, 6, 15, 10, 0, tzinfo=BERLIN),
        business_days(1),
        country="DE",
        timezone="Europe/Berlin",
        rule_name="internal review",
    )

    assert due.due_at == datetime(2024, 6, 17, 8, 0, tzinfo=UTC)
    assert due.skipped_days == (date(2024, 6, 16),)
    assert "start day 2024-06-15 Sat is not a business day (weekend)" in due.explanation


def test_year_end_window_skips_christmas_and_new_year_of_both_years() -> None:
    # Tue 24 Dec 2024: 25 and 26 Dec 2024 and 1 Jan 2025 are German holidays.
    due = compute_due(
        datetime(2024, 12, 24, 10, 0, tzinfo=BERLIN),
        business_days(5),
        country="DE",
        timezone="Europe/Berlin",
        rule_name="internal review",
    )

    assert due.due_at == datetime(2025, 1, 3, 9, 0, tzinfo=UTC)  # Fri 10:00 CET
    assert due.skipped_days == (
        date(2024, 12, 25),
        date(2024, 12, 26),
        date(2024, 12, 28),
        date(2024, 12, 29),
        date(2025, 1, 1),
    )
    assert "2025-01-01 Wed (public holiday: New Year's Day)" in due.explanation


def test_unknown_country_skips_weekends_only_and_says_so() -> None:
    # 3 Oct is German Unity Day, but not for a country the holidays package does not know.
    due = compute_due(
        datetime(2024, 10, 2, 10, 0, tzinfo=BERLIN),
        business_days(1),
        country="XX",
        timezone="Europe/Berlin",
        rule_name="internal review",
    )

    assert due.due_at == datetime(2024, 10, 3, 8, 0, tzinfo=UTC)
    assert due.skipped_days == ()
    assert "'XX' is unknown to the holidays package" in due.explanation


def test_country_code_is_case_insensitive() -> None:
    due = compute_due(
        datetime(2024, 10, 2, 10, 0, tzinfo=BERLIN),
        business_days(1),
        country="de",
        timezone="Europe/Berlin",
        rule_name="internal review",
    )

    assert due.due_at == datetime(2024, 10, 4, 8, 0, tzinfo=UTC)  # German Unity Day skipped
    assert due.skipped_days == (date(2024, 10, 3),)


def test_calendar_days_across_spring_forward_keep_local_time() -> None:
    # Berlin clocks go forward on 31 March 2024: the day lasts 23 hours.
    start = datetime(2024, 3, 30, 14, 30, tzinfo=BERLIN)

    due_at = due_in_germany(start, calendar_days(1))

    assert due_at == datetime(2024, 3, 31, 12, 30, tzinfo=UTC)  # 14:30 CEST
    assert due_at - start == timedelta(hours=23)


def test_hours_across_spring_forward_are_exact_elapsed_time() -> None:
    start = datetime(2024, 3, 30, 14, 30, tzinfo=BERLIN)

    due_at = due_in_germany(start, hours(24))

    assert due_at == datetime(2024, 3, 31, 13, 30, tzinfo=UTC)  # 15:30 CEST
    assert due_at - start == timedelta(hours=24)


def test_calendar_days_across_fall_back_keep_local_time() -> None:
    # Berlin clocks go back on 27 October 2024: the day lasts 25 hours.
    start = datetime(2024, 10, 26, 14, 30, tzinfo=BERLIN)

    due_at = due_in_germany(start, calendar_days(1))

    assert due_at == datetime(2024, 10, 27, 13, 30, tzinfo=UTC)  # 14:30 CET
    assert due_at - start == timedelta(hours=25)


def test_hours_across_fall_back_are_exact_elapsed_time() -> None:
    start = datetime(2024, 10, 26, 14, 30, tzinfo=BERLIN)

    due_at = due_in_germany(start, hours(24))

    assert due_at == datetime(2024, 10, 27, 12, 30, tzinfo=UTC)  # 13:30 CET
    assert due_at - start == timedelta(hours=24)


def test_due_time_in_the_spring_forward_gap_is_resolved_and_explained() -> None:
    # 02:30 does not exist on 31 March 2024 in Berlin; fold=0 reads it as 02:30 CET.
    due = compute_due(
        datetime(2024, 3, 30, 2, 30, tzinfo=BERLIN),
        calendar_days(1),
        country="DE",
        timezone="Europe/Berlin",
        rule_name="follow-up",
    )

    assert due.due_at == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert "2024-03-31 02:30:00 does not exist" in due.explanation


def test_due_time_in_the_fall_back_overlap_takes_the_first_occurrence() -> None:
    # 02:30 happens twice on 27 October 2024 in Berlin; the first is 02:30 CEST.
    due = compute_due(
        datetime(2024, 10, 26, 2, 30, tzinfo=BERLIN),
        calendar_days(1),
        country="DE",
        timezone="Europe/Berlin",
        rule_name="follow-up",
    )

    assert due.due_at == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    assert "2024-10-27 02:30:00 occurs twice" in due.explanation


def test_emergency_epoc_is_due_eight_hours_after_transmission() -> None:
    # Transmitted 00:30 CET on the night Berlin springs forward: due 09:30 CEST, 8 real hours.
    transmitted_at = datetime(2024, 3, 31, 0, 30, tzinfo=BERLIN)

    due = compute_due(transmitted_at, hours(8), country="DE", timezone="Europe/Berlin", rule_name="EPOC response")

    assert due.due_at == datetime(2024, 3, 31, 7, 30, tzinfo=UTC)
    assert due.due_at.tzinfo is UTC
    assert due.skipped_days == ()
    assert "8 hours of exact elapsed time" in due.explanation


def test_preservation_expires_after_sixty_days_and_extends_by_thirty() -> None:
    confirmed_at = datetime(2024, 1, 15, 11, 0, tzinfo=BERLIN)

    expiry = due_in_germany(confirmed_at, calendar_days(60))
    extended_expiry = due_in_germany(expiry, calendar_days(30))

    assert expiry == datetime(2024, 3, 15, 10, 0, tzinfo=UTC)  # leap year: 29 Feb counted
    assert extended_expiry == datetime(2024, 4, 14, 9, 0, tzinfo=UTC)  # 11:00 CEST


def test_result_is_in_utc_whatever_the_start_offset() -> None:
    start = datetime(2024, 6, 3, 8, 0, tzinfo=ZoneInfo("America/New_York"))  # 14:00 in Berlin

    due_at = due_in_germany(start, calendar_days(2))

    assert due_at == datetime(2024, 6, 5, 12, 0, tzinfo=UTC)
    assert due_at.utcoffset() == timedelta(0)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_due(
            datetime(2024, 3, 28, 9, 0),
            calendar_days(10),
            country="DE",
            timezone="Europe/Berlin",
            rule_name="EPOC response",
        )


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        compute_due(
            datetime(2024, 3, 28, 9, 0, tzinfo=UTC),
            calendar_days(10),
            country="DE",
            timezone="Europe/Atlantis",
            rule_name="EPOC response",
        )


@pytest.mark.parametrize("amount", [0, -1])
def test_duration_must_be_positive(amount: int) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        Duration(amount, DurationUnit.CALENDAR_DAYS)


def test_paused_clock_keeps_remaining_time_and_resumes_on_resume() -> None:
    due_at = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
    paused_at = datetime(2024, 5, 7, 9, 0, tzinfo=UTC)

    remaining = remaining_time(due_at, paused_at)
    resumed_due_at = add_remaining(datetime(2024, 5, 20, 17, 30, tzinfo=BERLIN), remaining)

    assert remaining == timedelta(days=3, hours=3)
    assert resumed_due_at == datetime(2024, 5, 23, 18, 30, tzinfo=UTC)
    assert resumed_due_at.tzinfo is UTC


def test_paused_clock_arithmetic_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        remaining_time(datetime(2024, 5, 10, 12, 0), datetime(2024, 5, 7, 9, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        add_remaining(datetime(2024, 5, 20, 15, 30), timedelta(hours=1))
