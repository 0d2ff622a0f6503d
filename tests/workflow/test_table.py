"""The workflow table (SPEC §5), checked without a database."""

from collections.abc import Iterator

import pytest

from mla.enums import TERMINAL_STATUSES, Direction, RequestStatus, RequestType, Role
from mla.workflow.table import (
    SYSTEM,
    TRANSITIONS,
    Action,
    ActionField,
    Transition,
    TransitionRefused,
    available_actions,
    find_transition,
    plan_transition,
)

S = RequestStatus
OUT, IN = Direction.OUTGOING, Direction.INCOMING
PRESERVATION, PRODUCTION = RequestType.PRESERVATION, RequestType.PRODUCTION
ALL_ROLES = (*(role.value for role in Role), SYSTEM)
NON_TERMINAL = tuple(s for s in S if s not in TERMINAL_STATUSES)

_SAMPLE_VALUE = {
    "text": "as stated in the letter of 3 March",
    "datetime": "2026-06-01T09:00:00+02:00",
    "int": 90,
    "uuid": "0b8e4a52-6a3e-4a5e-9d0e-3f1c3b0f5a11",
}

# SPEC §5 written out by hand, so the table is checked against something it was not built from:
# (direction, action, from statuses, to status (None: unchanged), applies to preservation, applies to
# production). Issue 10 adds the facts recorded after transmission: `extend` before confirmation,
# `validate` (Reg. 2023/1543 art 4(5)), `record_objection` (art 12), `record_traffic_disclosure`
# (Budapest art 30); the first three also on a fulfilled request.
_SENT = {S.TRANSMITTED, S.ACKNOWLEDGED}
_AWAITING_DATA = _SENT | {S.PARTIALLY_FULFILLED, S.AWAITING_CLARIFICATION, S.POSTPONED}
_OUTGOING_OPEN = {
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
SPEC_EDGES = {
    (OUT, "submit", frozenset({S.DRAFT}), S.UNDER_REVIEW, True, True),
    (OUT, "approve", frozenset({S.UNDER_REVIEW}), S.APPROVED, True, True),
    (OUT, "return", frozenset({S.UNDER_REVIEW}), S.DRAFT, True, True),
    (OUT, "reject", frozenset({S.UNDER_REVIEW}), S.REJECTED, True, True),
    (OUT, "transmit", frozenset({S.APPROVED}), S.TRANSMITTED, True, True),
    (OUT, "acknowledge", frozenset({S.TRANSMITTED}), S.ACKNOWLEDGED, True, True),
    (OUT, "record_partial", frozenset(_SENT), S.PARTIALLY_FULFILLED, False, True),
    (OUT, "fulfil", frozenset(_SENT | {S.PARTIALLY_FULFILLED}), S.FULFILLED, False, True),
    (OUT, "refuse", frozenset(_SENT), S.REFUSED, True, True),
    (OUT, "request_clarification", frozenset(_SENT), S.AWAITING_CLARIFICATION, True, True),
    (OUT, "provide_clarification", frozenset({S.AWAITING_CLARIFICATION}), S.ACKNOWLEDGED, True, True),
    (OUT, "postpone", frozenset(_SENT), S.POSTPONED, True, True),
    (OUT, "resume", frozenset({S.POSTPONED}), S.ACKNOWLEDGED, True, True),
    (OUT, "confirm_preserved", frozenset(_SENT), S.PRESERVED, True, False),
    (OUT, "extend", frozenset(_SENT | {S.PRESERVED}), None, True, False),
    (OUT, "lapse", frozenset({S.PRESERVED}), S.EXPIRED, True, False),
    (OUT, "supersede", frozenset(_SENT | {S.PRESERVED}), S.FULFILLED, True, False),
    (OUT, "record_traffic_disclosure", frozenset(_SENT | {S.PRESERVED}), None, True, False),
    (OUT, "validate", frozenset(_AWAITING_DATA | {S.PRESERVED, S.FULFILLED}), None, True, True),
    (OUT, "record_objection", frozenset(_AWAITING_DATA), S.REFUSED, False, True),
    (OUT, "record_objection", frozenset({S.FULFILLED}), None, False, True),
    (OUT, "withdraw", frozenset(_OUTGOING_OPEN), S.WITHDRAWN, True, True),
    (IN, "accept", frozenset({S.RECEIVED}), S.IN_EXECUTION, True, True),
    (IN, "hand_over", frozenset({S.IN_EXECUTION}), S.IN_EXECUTION, True, True),
    (IN, "execute", frozenset({S.IN_EXECUTION}), S.FULFILLED, False, True),
    (IN, "refuse", frozenset({S.RECEIVED, S.IN_EXECUTION}), S.REFUSED, True, True),
    # postponing defers an accepted request (Budapest art 27(5)): resume never skips accept's checks
    (IN, "postpone", frozenset({S.IN_EXECUTION}), S.POSTPONED, True, True),
    (IN, "resume", frozenset({S.POSTPONED}), S.IN_EXECUTION, True, True),
    (IN, "request_more_info", frozenset({S.RECEIVED, S.IN_EXECUTION}), S.AWAITING_CLARIFICATION, True, True),
    (IN, "provide_clarification", frozenset({S.AWAITING_CLARIFICATION}), S.RECEIVED, True, True),
    (
        IN,
        "withdraw",
        frozenset({S.RECEIVED, S.IN_EXECUTION, S.AWAITING_CLARIFICATION, S.POSTPONED, S.PRESERVED}),
        S.WITHDRAWN,
        True,
        True,
    ),
    # an incoming preservation keeps its own preservation period (Budapest art 29(7))
    (IN, "confirm_preserved", frozenset({S.IN_EXECUTION}), S.PRESERVED, True, False),
    (IN, "extend", frozenset({S.PRESERVED}), S.PRESERVED, True, False),
    (IN, "lapse", frozenset({S.PRESERVED}), S.EXPIRED, True, False),
    (IN, "supersede", frozenset({S.PRESERVED}), S.FULFILLED, True, False),
}


def _fields_for(transition: Transition, *, leave_out: str | None = None) -> dict[str, object]:
    return {f.name: _SAMPLE_VALUE[f.kind] for f in transition.fields if f.name != leave_out}


def _types(transition: Transition) -> Iterator[RequestType]:
    # Sorted: a set's order differs between processes, and xdist workers must collect the same tests.
    yield from sorted(transition.request_types) if transition.request_types is not None else RequestType


def _allowed_cases() -> list[object]:
    return [
        pytest.param(t, direction, request_type, status, id=f"{direction}-{request_type}-{status}-{t.action}")
        for t in TRANSITIONS
        for direction in sorted(t.directions)
        for request_type in _types(t)
        for status in sorted(t.from_statuses)
    ]


def _every_request_state() -> list[object]:
    return [
        pytest.param(direction, request_type, status, id=f"{direction}-{request_type}-{status}")
        for direction in Direction
        for request_type in RequestType
        for status in S
    ]


def _required_field_cases() -> list[object]:
    return [
        pytest.param(t, name, id=f"{min(t.directions)}-{t.action}-{name}")
        for t in TRANSITIONS
        for name in t.required_fields
    ]


def _plan(
    action: str, status: S, *, direction=OUT, request_type=PRODUCTION, roles=ALL_ROLES, is_author=False, fields=None
):
    return plan_transition(
        action,
        status=status,
        direction=direction,
        request_type=request_type,
        roles=roles,
        is_author=is_author,
        fields=fields if fields is not None else {},
    )


def _refusal(**kwargs) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as refused:
        _plan(**kwargs)
    return refused.value


# --- the table itself -------------------------------------------------------------------------


def test_table_has_exactly_the_transitions_of_the_spec() -> None:
    edges = {
        (
            direction,
            t.action.value,
            t.from_statuses,
            t.to_status,
            t.request_types is None or PRESERVATION in t.request_types,
            t.request_types is None or PRODUCTION in t.request_types,
        )
        for t in TRANSITIONS
        for direction in t.directions
    }
    assert edges == SPEC_EDGES


def test_every_action_appears_in_the_table() -> None:
    assert {t.action for t in TRANSITIONS} == set(Action)


@pytest.mark.parametrize(("direction", "request_type", "status"), _every_request_state())
def test_at_most_one_row_governs_an_action_on_a_request(direction, request_type, status) -> None:
    governing = [
        t.action for t in TRANSITIONS if t.applies_to(status=status, direction=direction, request_type=request_type)
    ]
    assert len(governing) == len(set(governing))


# Facts that can follow the data: an ex-post validation (art 4(5)) and an objection (art 12).
AFTER_FULFILMENT = {Action.VALIDATE, Action.RECORD_OBJECTION}


def test_only_facts_recorded_after_the_data_start_from_a_terminal_status_and_keep_it() -> None:
    for transition in TRANSITIONS:
        closed = transition.from_statuses & TERMINAL_STATUSES
        if transition.action in AFTER_FULFILMENT and closed:
            assert closed == {S.FULFILLED} and transition.to_status is None, transition.action
        else:
            assert not closed, transition.action


# --- allowed transitions ----------------------------------------------------------------------


@pytest.mark.parametrize(("transition", "direction", "request_type", "status"), _allowed_cases())
def test_allowed_transition_succeeds_for_each_allowed_role(transition, direction, request_type, status) -> None:
    for role in sorted(transition.roles):
        planned = plan_transition(
            transition.action.value,
            status=status,
            direction=direction,
            request_type=request_type,
            roles=[role],
            is_author=False,
            fields=_fields_for(transition),
        )
        assert planned is transition
        assert transition in available_actions(
            status=status, direction=direction, request_type=request_type, roles=[role], is_author=False
        )


@pytest.mark.parametrize(("transition", "direction", "request_type", "status"), _allowed_cases())
def test_optional_fields_can_be_left_out(transition, direction, request_type, status) -> None:
    required_only = {f.name: _SAMPLE_VALUE[f.kind] for f in transition.fields if f.required}
    planned = _plan(
        transition.action.value,
        status,
        direction=direction,
        request_type=request_type,
        roles=transition.roles,
        fields=required_only,
    )
    assert planned is transition


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("direction", "request_type", "status"), _every_request_state())
def test_every_action_not_allowed_from_a_status_is_refused_as_wrong_status(direction, request_type, status) -> None:
    allowed = {
        t.action for t in TRANSITIONS if t.applies_to(status=status, direction=direction, request_type=request_type)
    }
    for action in set(Action) - allowed:
        refusal = _refusal(action=action.value, status=status, direction=direction, request_type=request_type)
        assert refusal.reason == "wrong_status", action
        assert find_transition(action, status=status, direction=direction, request_type=request_type) is None


@pytest.mark.parametrize("transition", [pytest.param(t, id=f"{min(t.directions)}-{t.action}") for t in TRANSITIONS])
def test_roles_not_allowed_are_refused_as_wrong_role(transition: Transition) -> None:
    direction = min(transition.directions)
    request_type = next(_types(transition))
    status = min(transition.from_statuses)
    for role in set(ALL_ROLES) - transition.roles:
        refusal = _refusal(
            action=transition.action.value,
            status=status,
            direction=direction,
            request_type=request_type,
            roles=[role],
            fields=_fields_for(transition),
        )
        assert refusal.reason == "wrong_role", role


def test_no_role_at_all_is_refused_as_wrong_role() -> None:
    assert _refusal(action="submit", status=S.DRAFT, roles=[]).reason == "wrong_role"


@pytest.mark.parametrize(("transition", "field"), _required_field_cases())
@pytest.mark.parametrize("blank", ["absent", None, "", "   "])
def test_missing_required_field_is_refused_naming_the_field(transition: Transition, field: str, blank) -> None:
    fields = _fields_for(transition, leave_out=field)
    if blank != "absent":
        fields[field] = blank
    refusal = _refusal(
        action=transition.action.value,
        status=min(transition.from_statuses),
        direction=min(transition.directions),
        request_type=next(_types(transition)),
        roles=transition.roles,
        fields=fields,
    )
    assert refusal.reason == "missing_fields"
    assert refusal.missing == (field,)
    assert field in refusal.message


@pytest.mark.parametrize(
    ("direction", "action", "status", "fields"),
    [
        (OUT, "return", S.UNDER_REVIEW, ("reason",)),
        (OUT, "reject", S.UNDER_REVIEW, ("reason",)),
        (OUT, "refuse", S.ACKNOWLEDGED, ("grounds",)),
        (OUT, "postpone", S.TRANSMITTED, ("reason", "until")),
        (OUT, "withdraw", S.DRAFT, ("reason",)),
        (IN, "refuse", S.RECEIVED, ("grounds",)),
        (IN, "postpone", S.IN_EXECUTION, ("reason", "until")),
        (IN, "request_more_info", S.RECEIVED, ("reason",)),
        (IN, "withdraw", S.IN_EXECUTION, ("reason",)),
    ],
)
def test_spec_required_fields_are_all_listed_when_missing(direction, action, status, fields) -> None:
    refusal = _refusal(action=action, status=status, direction=direction)
    assert refusal.reason == "missing_fields"
    assert refusal.missing == fields


def test_supersede_requires_the_follow_up_request() -> None:
    refusal = _refusal(action="supersede", status=S.PRESERVED, request_type=PRESERVATION)
    assert refusal.missing == ("follow_up_request_id",)


def test_postpone_until_is_a_datetime_and_extend_days_an_int() -> None:
    postpone = find_transition("postpone", status=S.TRANSMITTED, direction=OUT, request_type=PRODUCTION)
    extend = find_transition("extend", status=S.PRESERVED, direction=OUT, request_type=PRESERVATION)
    assert postpone is not None and ActionField("until", required=True, kind="datetime") in postpone.fields
    assert extend is not None and ActionField("days", required=False, kind="int") in extend.fields


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
def test_terminal_status_allows_no_action_but_the_facts_that_follow_the_data(terminal: S) -> None:
    for direction in Direction:
        for request_type in RequestType:
            allowed = available_actions(
                status=terminal, direction=direction, request_type=request_type, roles=ALL_ROLES, is_author=False
            )
            assert {t.action for t in allowed} <= AFTER_FULFILMENT
            assert all(t.to_status is None for t in allowed)
            if terminal != S.FULFILLED or direction == IN:
                assert allowed == []
            for action in set(Action) - {t.action for t in allowed}:
                refusal = _refusal(action=action.value, status=terminal, direction=direction, request_type=request_type)
                assert refusal.reason == "wrong_status"


@pytest.mark.parametrize(("direction", "request_type", "status"), _every_request_state())
def test_auditor_and_admin_cannot_take_workflow_actions(direction, request_type, status) -> None:
    roles = [Role.AUDITOR, Role.ADMIN]
    state = {"status": status, "direction": direction, "request_type": request_type, "is_author": False}
    assert available_actions(**state, roles=roles) == []
    for transition in available_actions(**state, roles=ALL_ROLES):
        refusal = _refusal(
            action=transition.action.value,
            status=status,
            direction=direction,
            request_type=request_type,
            roles=roles,
            fields=_fields_for(transition),
        )
        assert refusal.reason == "wrong_role"


@pytest.mark.parametrize(
    ("action", "status", "fields"),
    [
        ("confirm_preserved", S.TRANSMITTED, {}),
        ("confirm_preserved", S.ACKNOWLEDGED, {}),
        ("extend", S.PRESERVED, {"days": 90}),
        ("lapse", S.PRESERVED, {}),
        ("supersede", S.PRESERVED, {"follow_up_request_id": _SAMPLE_VALUE["uuid"]}),
    ],
)
def test_preservation_only_actions_are_refused_for_a_production_request(action, status, fields) -> None:
    refusal = _refusal(action=action, status=status, request_type=PRODUCTION, fields=fields)
    assert refusal.reason == "wrong_status"


@pytest.mark.parametrize("action", ["fulfil", "record_partial"])
def test_a_preservation_is_never_fulfilled_directly(action: str) -> None:
    for status in (S.TRANSMITTED, S.ACKNOWLEDGED):
        assert _refusal(action=action, status=status, request_type=PRESERVATION).reason == "wrong_status"


@pytest.mark.parametrize("action", ["submit", "approve", "return", "reject", "transmit"])
def test_review_and_transmission_are_outgoing_only(action: str) -> None:
    for status in S:
        assert find_transition(action, status=status, direction=IN, request_type=PRODUCTION) is None


@pytest.mark.parametrize("action", ["accept", "execute", "request_more_info"])
def test_execution_actions_are_incoming_only(action: str) -> None:
    for status in S:
        assert find_transition(action, status=status, direction=OUT, request_type=PRODUCTION) is None


def test_unknown_action_is_refused_before_anything_else() -> None:
    refusal = _refusal(action="approve_quietly", status=S.FULFILLED, roles=[])
    assert refusal.reason == "unknown_action"
    assert "approve_quietly" in refusal.message


def test_wrong_status_is_reported_before_wrong_role() -> None:
    assert _refusal(action="approve", status=S.DRAFT, roles=[Role.AUDITOR]).reason == "wrong_status"


def test_wrong_role_is_reported_before_missing_fields() -> None:
    assert _refusal(action="reject", status=S.UNDER_REVIEW, roles=[Role.PROSECUTOR]).reason == "wrong_role"


# --- who does what ----------------------------------------------------------------------------


def test_only_the_system_lets_a_preservation_lapse() -> None:
    lapse = find_transition("lapse", status=S.PRESERVED, direction=OUT, request_type=PRESERVATION)
    assert lapse is not None and lapse.roles == {SYSTEM}
    assert SYSTEM not in {role.value for role in Role}
    for transition in TRANSITIONS:
        if transition.action != Action.LAPSE:
            assert SYSTEM not in transition.roles, transition.action


def test_supervisor_may_do_whatever_the_central_authority_may() -> None:
    for transition in TRANSITIONS:
        if Role.CENTRAL_AUTHORITY in transition.roles:
            assert Role.SUPERVISOR in transition.roles, transition.action


def test_prosecutor_and_central_authority_both_record_counterparty_events() -> None:
    recorded = {
        "acknowledge",
        "record_partial",
        "fulfil",
        "refuse",
        "request_clarification",
        "postpone",
        "resume",
        "confirm_preserved",
        "extend",
        "supersede",
        "validate",
        "record_objection",
        "record_traffic_disclosure",
    }
    for transition in TRANSITIONS:
        if OUT in transition.directions and transition.action in recorded:
            assert {Role.PROSECUTOR, Role.CENTRAL_AUTHORITY} <= transition.roles, transition.action


def test_only_a_prosecutor_submits_and_answers_clarification() -> None:
    for action, status in (("submit", S.DRAFT), ("provide_clarification", S.AWAITING_CLARIFICATION)):
        transition = find_transition(action, status=status, direction=OUT, request_type=PRODUCTION)
        assert transition is not None and transition.roles == {Role.PROSECUTOR}


def test_incoming_requests_are_handled_by_the_central_authority_and_executed_by_a_prosecutor_too() -> None:
    executing = {Action.EXECUTE, Action.CONFIRM_PRESERVED}
    for transition in TRANSITIONS:
        if IN in transition.directions and transition.action != Action.LAPSE:
            expected = {Role.CENTRAL_AUTHORITY, Role.SUPERVISOR} | (
                {Role.PROSECUTOR} if transition.action in executing else set()
            )
            assert transition.roles == expected, transition.action


def test_the_prosecutor_sees_only_their_actions_on_a_draft() -> None:
    actions = available_actions(
        status=S.DRAFT, direction=OUT, request_type=PRODUCTION, roles=[Role.PROSECUTOR], is_author=True
    )
    assert [t.action for t in actions] == [Action.SUBMIT, Action.WITHDRAW]


# --- four eyes ---------------------------------------------------------------------------------


def test_approval_is_the_only_action_kept_from_the_requests_author() -> None:
    assert {t.action for t in TRANSITIONS if t.four_eyes} == {Action.APPROVE}


@pytest.mark.parametrize("request_type", sorted(RequestType))
def test_the_author_may_not_approve_whatever_roles_they_hold(request_type: RequestType) -> None:
    refusal = _refusal(action="approve", status=S.UNDER_REVIEW, request_type=request_type, is_author=True)

    assert refusal.reason == "four_eyes"
    assert "created or submitted" in refusal.message
    offered = available_actions(
        status=S.UNDER_REVIEW, direction=OUT, request_type=request_type, roles=ALL_ROLES, is_author=True
    )
    assert [t.action for t in offered] == [Action.RETURN, Action.REJECT, Action.WITHDRAW]
    assert _plan("approve", S.UNDER_REVIEW, request_type=request_type, is_author=False).action == Action.APPROVE


def test_a_role_refusal_comes_before_the_four_eyes_refusal() -> None:
    refusal = _refusal(action="approve", status=S.UNDER_REVIEW, roles=[Role.PROSECUTOR], is_author=True)

    assert refusal.reason == "wrong_role"


# --- full paths -------------------------------------------------------------------------------


def _walk(start: S, steps, *, direction: Direction, request_type: RequestType) -> list[S]:
    status, visited = start, [start]
    for action, role, fields in steps:
        transition = plan_transition(
            action,
            status=status,
            direction=direction,
            request_type=request_type,
            roles=[role],
            is_author=role == Role.PROSECUTOR,  # the prosecutor submits; an officer approves
            fields=fields,
        )
        status = transition.next_status(status)
        visited.append(status)
    return visited


def test_preservation_walks_from_draft_to_fulfilled_by_supersede() -> None:
    steps = [
        ("submit", Role.PROSECUTOR, {}),
        ("return", Role.CENTRAL_AUTHORITY, {"reason": "Identifiers lack a time window."}),
        ("submit", Role.PROSECUTOR, {}),
        ("approve", Role.SUPERVISOR, {}),
        ("transmit", Role.CENTRAL_AUTHORITY, {"channel_reference": "24/7-2026-17"}),
        ("confirm_preserved", Role.PROSECUTOR, {"provider_reference": "LE-99812"}),
        ("extend", Role.PROSECUTOR, {"days": 90}),
        ("supersede", Role.PROSECUTOR, {"follow_up_request_id": _SAMPLE_VALUE["uuid"]}),
    ]
    visited = _walk(S.DRAFT, steps, direction=OUT, request_type=PRESERVATION)
    assert visited == [
        S.DRAFT,
        S.UNDER_REVIEW,
        S.DRAFT,
        S.UNDER_REVIEW,
        S.APPROVED,
        S.TRANSMITTED,
        S.PRESERVED,
        S.PRESERVED,
        S.FULFILLED,
    ]


def test_preservation_lapses_to_expired_by_the_worker() -> None:
    assert _walk(S.PRESERVED, [("lapse", SYSTEM, {})], direction=OUT, request_type=PRESERVATION)[-1] == S.EXPIRED


def test_outgoing_mla_walks_through_clarification_and_postponement_to_fulfilled() -> None:
    steps = [
        ("submit", Role.PROSECUTOR, {}),
        ("approve", Role.CENTRAL_AUTHORITY, {}),
        ("transmit", Role.CENTRAL_AUTHORITY, {}),
        ("acknowledge", Role.CENTRAL_AUTHORITY, {}),
        ("request_clarification", Role.CENTRAL_AUTHORITY, {}),
        ("provide_clarification", Role.PROSECUTOR, {}),
        ("postpone", Role.PROSECUTOR, {"reason": "Domestic trial pending", "until": _SAMPLE_VALUE["datetime"]}),
        ("resume", Role.PROSECUTOR, {}),
        ("record_partial", Role.PROSECUTOR, {}),
        ("fulfil", Role.PROSECUTOR, {}),
    ]
    visited = _walk(S.DRAFT, steps, direction=OUT, request_type=RequestType.MLA)
    assert visited[-5:] == [S.ACKNOWLEDGED, S.POSTPONED, S.ACKNOWLEDGED, S.PARTIALLY_FULFILLED, S.FULFILLED]


def test_incoming_walks_from_received_to_fulfilled() -> None:
    steps = [("accept", Role.CENTRAL_AUTHORITY, {}), ("execute", Role.CENTRAL_AUTHORITY, {})]
    visited = _walk(S.RECEIVED, steps, direction=IN, request_type=RequestType.MLA)
    assert visited == [S.RECEIVED, S.IN_EXECUTION, S.FULFILLED]


def test_incoming_clarification_returns_to_received_and_resume_to_execution() -> None:
    steps = [
        ("accept", Role.CENTRAL_AUTHORITY, {}),
        ("request_more_info", Role.CENTRAL_AUTHORITY, {"reason": "Dual criminality unclear."}),
        ("provide_clarification", Role.CENTRAL_AUTHORITY, {}),
        ("accept", Role.CENTRAL_AUTHORITY, {}),
        ("postpone", Role.SUPERVISOR, {"reason": "Our own investigation", "until": _SAMPLE_VALUE["datetime"]}),
        ("resume", Role.SUPERVISOR, {}),
    ]
    visited = _walk(S.RECEIVED, steps, direction=IN, request_type=RequestType.MLA)
    assert visited == [
        S.RECEIVED,
        S.IN_EXECUTION,
        S.AWAITING_CLARIFICATION,
        S.RECEIVED,
        S.IN_EXECUTION,
        S.POSTPONED,
        S.IN_EXECUTION,
    ]


def test_an_incoming_preservation_is_accepted_handed_over_preserved_extended_and_superseded() -> None:
    steps = [
        ("accept", Role.CENTRAL_AUTHORITY, {}),
        ("hand_over", Role.CENTRAL_AUTHORITY, {"organisation_id": _SAMPLE_VALUE["uuid"]}),
        ("confirm_preserved", Role.PROSECUTOR, {}),
        ("extend", Role.CENTRAL_AUTHORITY, {"days": 60}),
        ("supersede", Role.CENTRAL_AUTHORITY, {"follow_up_request_id": _SAMPLE_VALUE["uuid"]}),
    ]
    visited = _walk(S.RECEIVED, steps, direction=IN, request_type=PRESERVATION)
    assert visited == [S.RECEIVED, S.IN_EXECUTION, S.IN_EXECUTION, S.PRESERVED, S.PRESERVED, S.FULFILLED]
    assert _walk(S.PRESERVED, [("lapse", SYSTEM, {})], direction=IN, request_type=PRESERVATION)[-1] == S.EXPIRED


@pytest.mark.parametrize("status", sorted(_OUTGOING_OPEN))
def test_any_open_outgoing_request_can_be_withdrawn_with_a_reason(status: S) -> None:
    transition = _plan("withdraw", status, roles=[Role.PROSECUTOR], fields={"reason": "Case closed."})
    assert transition.to_status == S.WITHDRAWN
