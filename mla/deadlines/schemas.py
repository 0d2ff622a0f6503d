import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from mla.deadlines.arithmetic import Counting, DurationUnit
from mla.enums import DeadlineStatus
from mla.fields import LongText, ShortText
from mla.workflow.table import Action


class DeadlineOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    rule: str
    rule_name: str
    status: DeadlineStatus
    started_at: datetime
    due_at: datetime
    paused_at: datetime | None
    closed_at: datetime | None
    closed_by_action: str | None
    next_alert_at: datetime | None
    explanation: str
    counting: Counting
    # False when the rule's or the instrument's source could not be verified (the explanation says so).
    source_verified: bool


class DeadlinePreview(msgspec.Struct, kw_only=True):
    kind: str
    rule: str
    rule_name: str
    due_at: datetime
    explanation: str
    counting: Counting
    source_verified: bool
    # The calendar the clock runs on: that of the party who must act.
    country: str
    timezone: str


# A clock of up to ten years (days) or a year (hours); rules_admin refuses more hours than days allow.
RuleAmount = Annotated[int, msgspec.Meta(ge=1, le=8760)]
ReminderLeads = Annotated[list[Annotated[int, msgspec.Meta(ge=1, le=8760)]], msgspec.Meta(max_length=10)]
MeetsOn = Annotated[list[Action], msgspec.Meta(min_length=1, max_length=len(Action))]


class DeadlineRuleOut(msgspec.Struct, kw_only=True):
    """A deadline rule with its legal source; an amount of null means the clock does not run at that urgency."""

    id: uuid.UUID
    code: str
    name: str
    kind: str
    source: str
    instrument_codes: list[str]
    request_types: list[str]
    directions: list[str]
    requires_category: str | None
    excludes_category: str | None
    opens_on: str
    meets_on: list[str]
    routine_amount: int | None
    routine_unit: DurationUnit
    urgent_amount: int | None
    urgent_unit: DurationUnit
    emergency_amount: int | None
    emergency_unit: DurationUnit
    amount_from_instrument: bool
    responsible: str
    pauses_on_clarification: bool
    lapses_request: bool
    recurring: bool
    reminder_leads_hours: list[int]
    counting: Counting
    source_verified: bool
    applies_when: str | None
    starts_at_receipt: bool
    outlives_fulfilment: bool
    met_when_passed: bool
    updated_at: datetime


class DeadlineRulePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What an administrator may change in a rule; when and to what a rule applies is not editable."""

    name: ShortText | msgspec.UnsetType = msgspec.UNSET
    source: LongText | msgspec.UnsetType = msgspec.UNSET
    meets_on: MeetsOn | msgspec.UnsetType = msgspec.UNSET
    routine_amount: RuleAmount | None | msgspec.UnsetType = msgspec.UNSET
    routine_unit: DurationUnit | msgspec.UnsetType = msgspec.UNSET
    urgent_amount: RuleAmount | None | msgspec.UnsetType = msgspec.UNSET
    urgent_unit: DurationUnit | msgspec.UnsetType = msgspec.UNSET
    emergency_amount: RuleAmount | None | msgspec.UnsetType = msgspec.UNSET
    emergency_unit: DurationUnit | msgspec.UnsetType = msgspec.UNSET
    reminder_leads_hours: ReminderLeads | msgspec.UnsetType = msgspec.UNSET
    counting: Counting | msgspec.UnsetType = msgspec.UNSET
    source_verified: bool | msgspec.UnsetType = msgspec.UNSET
