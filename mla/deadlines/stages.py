"""When each alert stage of a deadline falls due (SPEC §6); pure.

- `reminder`: before due, when 20 % of the window is left, and at least one hour before (never
  before the clock started); rules may instead name lead times, e.g. 14 and 3 days before a
  preservation expires (`reminder-336h`, `reminder-72h`).
- `overdue`: at due.
- `escalation`: overdue by 20 % of the window or 7 days, whichever is sooner.
- `passed`, alone, for a window the other side may use (e.g. an enforcing authority's review):
  nobody is chased; at due the clock is met.
- A preservation that lapses (`lapses_request`) escalates at its expiry: lost evidence cannot wait.

`mla.deadlines.service.schedule` stores a deadline's stages on its row (`alert_stages`,
`alert_stage_times`), so the alert scan decides in SQL which are due without repeating this arithmetic.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

OVERDUE = "overdue"
ESCALATION = "escalation"
REMINDER = "reminder"
PASSED = "passed"
MAX_ESCALATION_DELAY = timedelta(days=7)
MIN_REMINDER_LEAD = timedelta(hours=1)


def alert_stages(
    due_at: datetime,
    window: timedelta,
    reminder_leads_hours: Sequence[int] = (),
    *,
    met_when_passed: bool = False,
    lapses_request: bool = False,
) -> list[tuple[str, datetime]]:
    """Every stage of a deadline with its moment, in time order."""
    if met_when_passed:
        return [(PASSED, due_at)]
    started_at = due_at - window
    if reminder_leads_hours:
        reminders = [
            (f"{REMINDER}-{hours}h", due_at - timedelta(hours=hours))
            for hours in sorted(reminder_leads_hours, reverse=True)
        ]
        reminders = [(stage, at) for stage, at in reminders if at > started_at]
    else:
        reminders = [(REMINDER, max(started_at, due_at - max(window * 0.2, MIN_REMINDER_LEAD)))]
    escalation_at = due_at if lapses_request else due_at + min(window * 0.2, MAX_ESCALATION_DELAY)
    return [*reminders, (OVERDUE, due_at), (ESCALATION, escalation_at)]


def next_stage_at(stages: list[tuple[str, datetime]], fired: Sequence[str]) -> datetime | None:
    """The moment of the first stage not yet fired, or None when all have been."""
    return next((at for stage, at in stages if stage not in fired), None)


def is_reminder(stage: str) -> bool:
    return stage.startswith(REMINDER)
