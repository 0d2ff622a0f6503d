"""The request workflow as one table (SPEC §5): status × action → next status, roles, fields, and
what the action does besides moving the status: whether it runs the legality checks (`checks`), what
it does to the running clocks (`clocks`) and what it records on the request (`effect`, in effects.py).

Data and pure lookups; the effects it names run in the action's transaction. The service looks a
transition up with `plan_transition`, then applies it in one transaction with its audit event.
Which deadline rules an action opens or meets is legal data of each rule (`DeadlineRule.opens_on`,
`meets_on`, editable by platform admins); a move to a closed status cancels every clock still running
(but those a fulfilment does not end, `outlives_fulfilment`).

Decisions not spelled out in SPEC §5:
- Counterparty events on an outgoing request (acknowledge, record_partial, fulfil, refuse,
  request_clarification, postpone, resume, confirm_preserved, extend, supersede) are *recorded*
  by us: a prosecutor or the central authority may record what the counterparty did.
- A supervisor may do whatever the central authority may (never prosecutor-only actions:
  submit, provide_clarification on an outgoing request).
- Auditor and admin do no workflow action; `lapse` is done only by the worker, as `SYSTEM`.
- A preservation request ends with `supersede` (follow-up request linked: one that was transmitted, or
  an incoming one, else 409 `follow-up-not-sent`, Reg. 2023/1543 art 11(1), Budapest art 29(7)) or `lapse`; it yields
  no data, so `fulfil` and `record_partial` apply only to the other request types
  (`record_partial` would also strand a preservation in a status it could not leave).
- Incoming requests are handled by the central authority (and supervisor), including recording
  that the requesting state withdrew its request. `hand_over` gives one in execution to a domestic
  prosecution service, whose prosecutors then see it and may `execute` it (or `confirm_preserved`).
- Incoming `postpone` (Budapest art 27(5)) defers an accepted request: only from `in_execution`,
  so `resume` never skips the checks that gate `accept`.
- An incoming preservation is accepted, then preserved (`confirm_preserved`), and keeps its own
  preservation period (Budapest art 29(7)): `extend`, `supersede` (the follow-up request arrived),
  `lapse` (worker) or `withdraw`, as for an outgoing one.
- Every action accepts an optional `reason` (free text for the audit event) unless it is required.
- Four eyes: `approve` (a `four_eyes` row) is never taken by the request's author, whoever created
  it or ever submitted it, whatever roles they hold (e.g. a prosecutor who is also a
  central-authority officer in a central authority that files its own requests). The service
  tells the table who the authors are; attestations follow the same rule (mla/checks/service.py).
- Some actions record a fact and leave the status as it is (`to_status` None): `extend` (also
  before the provider confirmed: the expiry runs from receipt), `validate` (Reg. 2023/1543
  art 4(5)), `record_objection` on a fulfilled order (art 12: the objection can follow the data)
  and `record_traffic_disclosure` (Budapest art 30, an outcome of an art 29 request). Only these
  may be taken on a closed request, and only from the closed statuses their row lists.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from mla.enums import TERMINAL_STATUSES, Action, CheckGate, ClockEffect, Direction, RequestStatus, RequestType, Role
from mla.workflow import effects
from mla.workflow.effects import Effect

SYSTEM = "system"
"""Pseudo role of the worker (e.g. lapsing an expired preservation); never held by a user."""

S = RequestStatus


FieldKind = Literal["text", "datetime", "int", "uuid"]


@dataclass(frozen=True)
class ActionField:
    """A body field an action accepts; `kind` tells the API how to parse it."""

    name: str
    required: bool
    kind: FieldKind


@dataclass(frozen=True)
class Transition:
    """One row of the table: `action` moves a request in `from_statuses` to `to_status`."""

    action: Action
    from_statuses: frozenset[RequestStatus]
    to_status: RequestStatus | None  # None: the status does not change (the action records a fact)
    roles: frozenset[str]
    fields: tuple[ActionField, ...]
    directions: frozenset[Direction]
    request_types: frozenset[RequestType] | None  # None: every request type
    four_eyes: bool = False  # refused to the request's author (its creator or a submitter)
    checks: CheckGate = CheckGate.NONE
    clocks: ClockEffect | None = None  # besides the rules it opens and meets
    effect: Effect | None = None  # what it records on the request besides its status

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def next_status(self, current: RequestStatus | str) -> RequestStatus:
        return self.to_status or RequestStatus(current)

    def applies_to(self, *, status: RequestStatus, direction: Direction, request_type: RequestType) -> bool:
        """Whether this row governs a request in `status` of this direction and type."""
        return (
            (status not in TERMINAL_STATUSES or self.to_status is None)
            and status in self.from_statuses
            and direction in self.directions
            and (self.request_types is None or request_type in self.request_types)
        )

    def allows(self, roles: Iterable[str]) -> bool:
        return not self.roles.isdisjoint(roles)

    def allows_author(self, is_author: bool) -> bool:
        return not (self.four_eyes and is_author)


# --- building blocks of the table -------------------------------------------------------------

_OUT = frozenset({Direction.OUTGOING})
_IN = frozenset({Direction.INCOMING})

_PROSECUTOR = frozenset({Role.PROSECUTOR.value})
_CENTRAL = frozenset({Role.CENTRAL_AUTHORITY.value, Role.SUPERVISOR.value})
_RECORDERS = _PROSECUTOR | _CENTRAL  # who may record what the counterparty did
_SYSTEM_ONLY = frozenset({SYSTEM})

_PRESERVATION = frozenset({RequestType.PRESERVATION})
_PRODUCTION = frozenset({RequestType.PRODUCTION})
_NOT_PRESERVATION = frozenset(RequestType) - _PRESERVATION

_SENT = frozenset({S.TRANSMITTED, S.ACKNOWLEDGED})
_AWAITING_DATA = _SENT | {S.PARTIALLY_FULFILLED, S.AWAITING_CLARIFICATION, S.POSTPONED}
_EU_ORDERS = frozenset({RequestType.PRODUCTION, RequestType.PRESERVATION})
_INCOMING_OPEN = frozenset({S.RECEIVED, S.IN_EXECUTION})
_EXECUTORS = _CENTRAL | _PROSECUTOR  # a prosecution service the request was handed over to executes it
_OUTGOING_STATUSES = frozenset(
    {
        S.DRAFT,
        S.UNDER_REVIEW,
        S.APPROVED,
        S.TRANSMITTED,
        S.ACKNOWLEDGED,
        S.PARTIALLY_FULFILLED,
        S.AWAITING_CLARIFICATION,
        S.POSTPONED,
        S.PRESERVED,
    }
)
_INCOMING_STATUSES = frozenset({S.RECEIVED, S.IN_EXECUTION, S.AWAITING_CLARIFICATION, S.POSTPONED, S.PRESERVED})

REASON = ActionField("reason", required=True, kind="text")
GROUNDS = ActionField("grounds", required=True, kind="text")
UNTIL = ActionField("until", required=True, kind="datetime")
CHANNEL_REFERENCE = ActionField("channel_reference", required=False, kind="text")
PROVIDER_REFERENCE = ActionField("provider_reference", required=False, kind="text")
RECEIVED_AT = ActionField("received_at", required=False, kind="datetime")
VALIDATED_BY = ActionField("validated_by", required=True, kind="text")
VALIDATED_AT = ActionField("validated_at", required=True, kind="datetime")
VALIDATION_REFERENCE = ActionField("validation_reference", required=False, kind="text")
DATA_MEASURE = ActionField("data_measure", required=True, kind="text")
DISCLOSURE = ActionField("disclosure", required=True, kind="text")
DAYS = ActionField("days", required=False, kind="int")
FOLLOW_UP_REQUEST_ID = ActionField("follow_up_request_id", required=True, kind="uuid")
ORGANISATION_ID = ActionField("organisation_id", required=True, kind="uuid")
_OPTIONAL_REASON = ActionField("reason", required=False, kind="text")


@dataclass(frozen=True)
class ActionRules:
    """What an action does whatever the request's direction: checks, clocks, effect."""

    checks: CheckGate = CheckGate.NONE
    clocks: ClockEffect | None = None
    effect: Effect | None = None


A = Action

ACTION_RULES: Mapping[Action, ActionRules] = {
    A.SUBMIT: ActionRules(checks=CheckGate.RECORD, effect=effects.submit),
    A.APPROVE: ActionRules(checks=CheckGate.BLOCK),
    A.ACCEPT: ActionRules(checks=CheckGate.BLOCK),
    A.TRANSMIT: ActionRules(effect=effects.transmit),
    A.ACKNOWLEDGE: ActionRules(effect=effects.acknowledge),
    A.CONFIRM_PRESERVED: ActionRules(clocks=ClockEffect.CONFIRM, effect=effects.confirm_preserved),
    # Waiting on the other side: our clarification (outgoing) or the requesting state's (incoming).
    A.REQUEST_CLARIFICATION: ActionRules(clocks=ClockEffect.PAUSE),
    A.REQUEST_MORE_INFO: ActionRules(clocks=ClockEffect.PAUSE),
    A.PROVIDE_CLARIFICATION: ActionRules(clocks=ClockEffect.RESUME),
    A.POSTPONE: ActionRules(clocks=ClockEffect.POSTPONE, effect=effects.postpone),
    A.RESUME: ActionRules(clocks=ClockEffect.END_POSTPONEMENT, effect=effects.end_postponement),
    A.EXTEND: ActionRules(clocks=ClockEffect.EXTEND),
    A.LAPSE: ActionRules(clocks=ClockEffect.LAPSE),
    A.HAND_OVER: ActionRules(effect=effects.hand_over),
    A.SUPERSEDE: ActionRules(effect=effects.supersede),
    A.VALIDATE: ActionRules(effect=effects.validate),
    A.RECORD_OBJECTION: ActionRules(effect=effects.record_objection),
    A.RECORD_TRAFFIC_DISCLOSURE: ActionRules(effect=effects.record_traffic_disclosure),
}
"""Only the actions that do more than move the status; every other action has `ActionRules()`."""


def _row(
    action: Action,
    from_statuses: Iterable[RequestStatus],
    to_status: RequestStatus | None,
    roles: frozenset[str],
    *fields: ActionField,
    directions: frozenset[Direction] = _OUT,
    request_types: frozenset[RequestType] | None = None,
    four_eyes: bool = False,
) -> Transition:
    if not any(f.name == "reason" for f in fields):
        fields = (*fields, _OPTIONAL_REASON)
    rules = ACTION_RULES.get(action, ActionRules())
    return Transition(
        action=action,
        from_statuses=frozenset(from_statuses),
        to_status=to_status,
        roles=roles,
        fields=fields,
        directions=directions,
        request_types=request_types,
        four_eyes=four_eyes,
        checks=rules.checks,
        clocks=rules.clocks,
        effect=rules.effect,
    )


TRANSITIONS: tuple[Transition, ...] = (
    # outgoing: drafting, review, transmission
    _row(A.SUBMIT, {S.DRAFT}, S.UNDER_REVIEW, _PROSECUTOR),
    _row(A.APPROVE, {S.UNDER_REVIEW}, S.APPROVED, _CENTRAL, four_eyes=True),
    _row(A.RETURN, {S.UNDER_REVIEW}, S.DRAFT, _CENTRAL, REASON),
    _row(A.REJECT, {S.UNDER_REVIEW}, S.REJECTED, _CENTRAL, REASON),
    _row(A.TRANSMIT, {S.APPROVED}, S.TRANSMITTED, _CENTRAL, CHANNEL_REFERENCE),
    # outgoing: what the counterparty does, recorded by us
    _row(A.ACKNOWLEDGE, {S.TRANSMITTED}, S.ACKNOWLEDGED, _RECORDERS, RECEIVED_AT),
    _row(A.RECORD_PARTIAL, _SENT, S.PARTIALLY_FULFILLED, _RECORDERS, request_types=_NOT_PRESERVATION),
    _row(
        A.FULFIL,
        _SENT | {S.PARTIALLY_FULFILLED},
        S.FULFILLED,
        _RECORDERS,
        request_types=_NOT_PRESERVATION,
    ),
    _row(A.REFUSE, _SENT, S.REFUSED, _RECORDERS, GROUNDS),
    _row(A.REQUEST_CLARIFICATION, _SENT, S.AWAITING_CLARIFICATION, _RECORDERS),
    _row(A.PROVIDE_CLARIFICATION, {S.AWAITING_CLARIFICATION}, S.ACKNOWLEDGED, _PROSECUTOR),
    _row(A.POSTPONE, _SENT, S.POSTPONED, _RECORDERS, REASON, UNTIL),
    _row(A.RESUME, {S.POSTPONED}, S.ACKNOWLEDGED, _RECORDERS),
    # outgoing preservation: ends by supersede (follow-up linked) or lapse (worker)
    _row(
        A.CONFIRM_PRESERVED,
        _SENT,
        S.PRESERVED,
        _RECORDERS,
        PROVIDER_REFERENCE,
        RECEIVED_AT,
        request_types=_PRESERVATION,
    ),
    _row(A.EXTEND, _SENT | {S.PRESERVED}, None, _RECORDERS, DAYS, request_types=_PRESERVATION),
    _row(A.LAPSE, {S.PRESERVED}, S.EXPIRED, _SYSTEM_ONLY, request_types=_PRESERVATION),
    _row(
        A.SUPERSEDE,
        _SENT | {S.PRESERVED},
        S.FULFILLED,
        _RECORDERS,
        FOLLOW_UP_REQUEST_ID,
        request_types=_PRESERVATION,
    ),
    _row(
        A.RECORD_TRAFFIC_DISCLOSURE,
        _SENT | {S.PRESERVED},
        None,
        _RECORDERS,
        DISCLOSURE,
        request_types=_PRESERVATION,
    ),
    # EU orders: ex-post validation (art 4(5)) and the enforcing authority's objection (art 12),
    # both possibly after the data arrived
    _row(
        A.VALIDATE,
        _AWAITING_DATA | {S.PRESERVED, S.FULFILLED},
        None,
        _RECORDERS,
        VALIDATED_BY,
        VALIDATED_AT,
        VALIDATION_REFERENCE,
        request_types=_EU_ORDERS,
    ),
    _row(A.RECORD_OBJECTION, _AWAITING_DATA, S.REFUSED, _RECORDERS, GROUNDS, DATA_MEASURE, request_types=_PRODUCTION),
    _row(A.RECORD_OBJECTION, {S.FULFILLED}, None, _RECORDERS, GROUNDS, DATA_MEASURE, request_types=_PRODUCTION),
    _row(A.WITHDRAW, _OUTGOING_STATUSES, S.WITHDRAWN, _PROSECUTOR | _CENTRAL, REASON),
    # incoming: we execute a foreign request
    _row(A.ACCEPT, {S.RECEIVED}, S.IN_EXECUTION, _CENTRAL, directions=_IN),
    _row(A.HAND_OVER, {S.IN_EXECUTION}, S.IN_EXECUTION, _CENTRAL, ORGANISATION_ID, directions=_IN),
    _row(A.EXECUTE, {S.IN_EXECUTION}, S.FULFILLED, _EXECUTORS, directions=_IN, request_types=_NOT_PRESERVATION),
    _row(A.REFUSE, _INCOMING_OPEN, S.REFUSED, _CENTRAL, GROUNDS, directions=_IN),
    _row(A.POSTPONE, {S.IN_EXECUTION}, S.POSTPONED, _CENTRAL, REASON, UNTIL, directions=_IN),
    _row(A.RESUME, {S.POSTPONED}, S.IN_EXECUTION, _CENTRAL, directions=_IN),
    _row(A.REQUEST_MORE_INFO, _INCOMING_OPEN, S.AWAITING_CLARIFICATION, _CENTRAL, REASON, directions=_IN),
    # The status alone cannot tell whether we had accepted before asking, so the answer
    # goes back to `received` and is accepted again.
    _row(A.PROVIDE_CLARIFICATION, {S.AWAITING_CLARIFICATION}, S.RECEIVED, _CENTRAL, directions=_IN),
    _row(A.WITHDRAW, _INCOMING_STATUSES, S.WITHDRAWN, _CENTRAL, REASON, directions=_IN),
    # incoming preservation: we preserve for the requesting state
    _row(
        A.CONFIRM_PRESERVED,
        {S.IN_EXECUTION},
        S.PRESERVED,
        _EXECUTORS,
        PROVIDER_REFERENCE,
        directions=_IN,
        request_types=_PRESERVATION,
    ),
    _row(A.EXTEND, {S.PRESERVED}, S.PRESERVED, _CENTRAL, DAYS, directions=_IN, request_types=_PRESERVATION),
    _row(A.LAPSE, {S.PRESERVED}, S.EXPIRED, _SYSTEM_ONLY, directions=_IN, request_types=_PRESERVATION),
    _row(
        A.SUPERSEDE,
        {S.PRESERVED},
        S.FULFILLED,
        _CENTRAL,
        FOLLOW_UP_REQUEST_ID,
        directions=_IN,
        request_types=_PRESERVATION,
    ),
)

del A, S  # short aliases for the table only

_ACTION_NAMES = frozenset(a.value for a in Action)


# --- lookups ----------------------------------------------------------------------------------


RefusalReason = Literal["unknown_action", "wrong_status", "wrong_role", "four_eyes", "missing_fields"]
FOUR_EYES_RULE = "The user who created or submitted a request may not approve it nor attest its checks."


class TransitionRefused(Exception):
    """An action refused by the table.

    `reason` in check order, with the HTTP status the API gives it: `unknown_action` (404),
    `wrong_status` (409, also a wrong direction or request type), `wrong_role` (403),
    `four_eyes` (403: the author may not take it), `missing_fields` (422; `missing` names the fields).
    """

    def __init__(self, reason: RefusalReason, message: str, *, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reason: RefusalReason = reason
        self.message = message
        self.missing = missing


def find_transition(
    action: str,
    *,
    status: RequestStatus | str,
    direction: Direction | str,
    request_type: RequestType | str,
) -> Transition | None:
    """The row for `action` on a request in this status, direction and type; None if none applies."""
    status, direction, request_type = RequestStatus(status), Direction(direction), RequestType(request_type)
    for transition in TRANSITIONS:
        if transition.action == action and transition.applies_to(
            status=status, direction=direction, request_type=request_type
        ):
            return transition
    return None


def available_actions(
    *,
    status: RequestStatus | str,
    direction: Direction | str,
    request_type: RequestType | str,
    roles: Iterable[str],
    is_author: bool,
) -> list[Transition]:
    """The transitions someone holding `roles` may take now, in table order (none if terminal).

    `is_author`: the caller created or submitted the request, so no `four_eyes` row is offered.
    """
    status, direction, request_type = RequestStatus(status), Direction(direction), RequestType(request_type)
    roles = frozenset(roles)
    return [
        t
        for t in TRANSITIONS
        if t.applies_to(status=status, direction=direction, request_type=request_type)
        and t.allows(roles)
        and t.allows_author(is_author)
    ]


def plan_transition(
    action: str,
    *,
    status: RequestStatus | str,
    direction: Direction | str,
    request_type: RequestType | str,
    roles: Iterable[str],
    is_author: bool,
    fields: Mapping[str, object],
) -> Transition:
    """The transition `action` would take, or TransitionRefused naming the first failed check.

    Checks in order: the action exists; it applies to this direction, type and status (a
    terminal status allows nothing); one of `roles` may take it; a `four_eyes` action is not
    taken by the request's author (`is_author`); every required field is present and non-empty
    (None, blank text and empty collections count as missing). Field values are not parsed
    here: `ActionField.kind` tells the caller how.
    """
    if action not in _ACTION_NAMES:
        raise TransitionRefused("unknown_action", f"There is no action {action!r}.")
    transition = find_transition(action, status=status, direction=direction, request_type=request_type)
    if transition is None:
        raise TransitionRefused(
            "wrong_status",
            f"Action {action!r} is not allowed on a request ({direction}, {request_type}) in status {status!s}.",
        )
    if not transition.allows(roles):
        raise TransitionRefused(
            "wrong_role",
            f"Action {action!r} needs one of the roles: {', '.join(sorted(transition.roles))}.",
        )
    if not transition.allows_author(is_author):
        raise TransitionRefused("four_eyes", f"Four eyes: {FOUR_EYES_RULE} Another officer must {action} it.")
    missing = tuple(name for name in transition.required_fields if _is_blank(fields.get(name)))
    if missing:
        raise TransitionRefused(
            "missing_fields",
            f"Action {action!r} requires: {', '.join(missing)}.",
            missing=missing,
        )
    return transition


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return not value
    return False
