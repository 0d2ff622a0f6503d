"""Times as a person reads them (pages, e-mails, notifications): their zone, to the minute, the zone shown."""

from datetime import UTC, datetime

from mla.local_time import local_time

NOON = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def test_local_time_shows_the_zone_including_summer_time() -> None:
    assert local_time(NOON, "Europe/Berlin") == "Mon 2 Nov 2026, 13:00 CET"
    assert local_time(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "Europe/Berlin") == "Wed 1 Jul 2026, 14:00 CEST"


def test_local_time_drops_seconds_and_microseconds() -> None:
    assert local_time(datetime(2026, 11, 2, 12, 0, 59, 999_999, tzinfo=UTC), "UTC") == "Mon 2 Nov 2026, 12:00 UTC"


def test_a_zone_without_a_lettered_abbreviation_shows_its_offset_from_utc() -> None:
    assert local_time(NOON, "America/Sao_Paulo") == "Mon 2 Nov 2026, 09:00 UTC-03"
