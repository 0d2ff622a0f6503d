"""How a moment is written for a person: in their time zone, to the minute, the zone always shown.

One format everywhere a person reads a time (the desk's pages, e-mails, in-app notifications,
webhook texts): `Mon 2 Nov 2026, 10:00 CET`. The API's JSON fields stay in UTC (`Z`).
"""

from datetime import datetime
from zoneinfo import ZoneInfo


def local_time(moment: datetime | None, zone: str) -> str:
    """`Mon 2 Nov 2026, 10:00 CET` in `zone` (an IANA name); a zone without a lettered abbreviation
    shows its offset from UTC (`UTC-03`), so the zone is never implicit."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    name = local.tzname() or zone
    if name[:1] in "+-":
        name = f"UTC{name}"
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {name}"
