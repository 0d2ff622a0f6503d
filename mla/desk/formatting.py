"""How the desk writes times, durations and the domain's codes in plain words (pure functions)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

# Codes whose plain name is not simply the code with spaces.
_NAMES = {
    "mla": "Mutual legal assistance",
    "subscriber_info": "Subscriber information",
    "ip_identification": "IP identification",
    "needs_attestation": "needs attestation",
    "due_soon": "Due soon",
    "epoc_response": "EPOC response",
}


def plain(code: str | None) -> str:
    """`under_review` → `Under review`; the domain's codes as a person reads them."""
    if not code:
        return ""
    name = _NAMES.get(code, code.replace("_", " "))
    return name[:1].upper() + name[1:]


def duration(delta: timedelta) -> str:
    """`3 d 4 h`, `3 h 12 min`, `12 min`: the two largest units, rounded down to the minute."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


@dataclass(frozen=True)
class TimeLeft:
    text: str
    overdue: bool


def time_left(due_at: datetime, now: datetime) -> TimeLeft:
    """`due in 3 h 12 min`, or `overdue by 2 d 4 h` (shown in red)."""
    if due_at <= now:
        return TimeLeft(f"overdue by {duration(now - due_at)}", overdue=True)
    return TimeLeft(f"due in {duration(due_at - now)}", overdue=False)


def local_input_value(moment: datetime | None, zone: str) -> str:
    """The value of a `datetime-local` field showing `moment` in the user's zone."""
    return "" if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def from_local_input(value: str, zone: str) -> datetime:
    """A `datetime-local` field's value read in the user's zone; refuses a malformed one (ValueError)."""
    return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(zone))
