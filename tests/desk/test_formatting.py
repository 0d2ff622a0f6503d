"""Times and durations as the desk writes them."""

from datetime import UTC, datetime, timedelta

from mla.desk.formatting import duration, from_local_input, plain, time_left

NOON = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def test_time_left_names_the_two_largest_units() -> None:
    assert time_left(NOON + timedelta(hours=3, minutes=12, seconds=59), NOON).text == "due in 3 h 12 min"
    assert time_left(NOON + timedelta(days=2, hours=4), NOON).text == "due in 2 d 4 h"
    assert time_left(NOON + timedelta(minutes=7), NOON).text == "due in 7 min"


def test_a_past_due_moment_is_overdue_by_how_long() -> None:
    left = time_left(NOON - timedelta(days=1, minutes=30), NOON)

    assert left.overdue and left.text == "overdue by 1 d"
    assert time_left(NOON, NOON).overdue


def test_a_datetime_field_is_read_in_the_users_zone() -> None:
    assert from_local_input("2026-11-02T13:00", "Europe/Berlin") == NOON


def test_codes_read_as_words() -> None:
    assert plain("under_review") == "Under review"
    assert plain("subscriber_info") == "Subscriber information"
    assert duration(timedelta(hours=5)) == "5 h"
