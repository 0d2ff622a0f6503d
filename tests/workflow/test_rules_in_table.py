"""The transition table is the one place that says what an action does besides moving the status:
whether it runs the checks, what it does to the clocks, what it records (issue 11 §6)."""

import dataclasses
from collections.abc import Callable

import pytest

from mla.deadlines.catalogue import INCOMING_RULES, RULES
from mla.deadlines.service import RECEIVE_ACTION
from mla.enums import Action, CheckGate, ClockEffect, DeadlineStatus, Role
from mla.workflow import table
from mla.workflow.table import ACTION_RULES, TRANSITIONS, ActionRules, Transition
from tests.factories import World

# Written out by hand from SPEC §5-6, so the table is checked against something it was not built from.
CHECKS = {Action.SUBMIT: CheckGate.RECORD, Action.APPROVE: CheckGate.BLOCK, Action.ACCEPT: CheckGate.BLOCK}
CLOCKS = {
    Action.REQUEST_CLARIFICATION: ClockEffect.PAUSE,
    Action.REQUEST_MORE_INFO: ClockEffect.PAUSE,
    Action.PROVIDE_CLARIFICATION: ClockEffect.RESUME,
    Action.POSTPONE: ClockEffect.POSTPONE,
    Action.RESUME: ClockEffect.END_POSTPONEMENT,
    Action.EXTEND: ClockEffect.EXTEND,
    Action.LAPSE: ClockEffect.LAPSE,
    Action.CONFIRM_PRESERVED: ClockEffect.CONFIRM,  # a confirmation after the expiry passed is refused
}
RECORDING = {
    Action.SUBMIT,  # links the central authority if the draft was filed before the link
    Action.TRANSMIT,
    Action.ACKNOWLEDGE,
    Action.CONFIRM_PRESERVED,
    Action.POSTPONE,
    Action.RESUME,
    Action.HAND_OVER,
    Action.SUPERSEDE,
    Action.VALIDATE,
    Action.RECORD_OBJECTION,
    Action.RECORD_TRAFFIC_DISCLOSURE,
}


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: f"{t.action}:{'/'.join(sorted(t.directions))}")
def test_every_row_says_its_checks_clocks_and_effect(transition: Transition) -> None:
    assert transition.checks == CHECKS.get(transition.action, CheckGate.NONE)
    assert transition.clocks == CLOCKS.get(transition.action)
    assert (transition.effect is not None) == (transition.action in RECORDING)


def test_an_action_does_the_same_in_both_directions() -> None:
    for transition in TRANSITIONS:
        rules = ACTION_RULES.get(transition.action, ActionRules())
        assert (transition.checks, transition.clocks, transition.effect) == (rules.checks, rules.clocks, rules.effect)


def test_every_deadline_rule_opens_and_is_met_on_an_action_of_the_table() -> None:
    actions = {t.action.value for t in TRANSITIONS}
    for rule in (*RULES, *INCOMING_RULES):
        assert rule.opens_on in actions | {RECEIVE_ACTION}, rule.code
        assert set(rule.meets_on) <= actions, rule.code


def test_deadline_statuses_are_the_stored_values() -> None:
    assert [status.value for status in DeadlineStatus] == ["open", "met", "missed", "cancelled"]


def _replacing(action: Action, **changes: object) -> tuple[Transition, ...]:
    return tuple(dataclasses.replace(t, **changes) if t.action == action else t for t in TRANSITIONS)


async def _submitted(world: World) -> tuple[dict, dict]:
    prosecution, authority = await world.linked_pair()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    return prosecution, await world.act(prosecution, Role.PROSECUTOR, request, "submit")


async def _last_event(world: World, org: object, request: dict) -> dict:
    response = await world.client.get(f"/api/v1/requests/{request['id']}/audit", headers=org.headers())  # type: ignore[attr-defined]
    return [e for e in response.json()["items"] if e["action"] == "submit"][-1]


async def test_submit_records_the_checks_because_the_table_says_so(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    prosecution, request = await _submitted(world)
    assert (await _last_event(world, prosecution, request))["checks"]

    monkeypatch.setattr(table, "TRANSITIONS", _replacing(Action.SUBMIT, checks=CheckGate.NONE))
    prosecution, request = await _submitted(world)
    assert (await _last_event(world, prosecution, request))["checks"] is None


async def test_the_effect_an_action_records_is_the_one_its_row_names(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Action] = []

    def spy(effect: Callable) -> Callable:  # type: ignore[type-arg]
        async def recorded(session, row, data):  # type: ignore[no-untyped-def]
            calls.append(Action.SUBMIT)
            return {"spied": True} | await effect(session, row, data)

        return recorded

    submit_effect = ACTION_RULES[Action.SUBMIT].effect
    assert submit_effect is not None
    monkeypatch.setattr(table, "TRANSITIONS", _replacing(Action.SUBMIT, effect=spy(submit_effect)))
    prosecution, request = await _submitted(world)
    assert calls == [Action.SUBMIT]
    assert (await _last_event(world, prosecution, request))["changes"]["spied"] is True


async def test_the_clocks_follow_the_rows_clock_effect(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without its row's `pause`, asking for clarification leaves the clocks running."""
    monkeypatch.setattr(table, "TRANSITIONS", _replacing(Action.REQUEST_CLARIFICATION, clocks=None))
    prosecution, _, request = await world.transmitted()
    request = await world.act(prosecution, Role.PROSECUTOR, request, "request_clarification")
    response = await world.client.get(f"/api/v1/requests/{request['id']}/deadlines", headers=prosecution.headers())
    running = {d["rule"]: d for d in response.json()["items"] if d["status"] == "open"}
    assert running["epoc-response"]["paused_at"] is None  # with the table's `pause` it would be paused


async def test_the_actions_offered_are_the_tables(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    prosecution, _ = await world.linked_pair()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    url = f"/api/v1/requests/{request['id']}/actions"

    offered = await world.client.get(url, headers=prosecution.headers(Role.PROSECUTOR))
    assert [a["action"] for a in offered.json()["items"]] == ["submit", "withdraw"]

    monkeypatch.setattr(table, "TRANSITIONS", tuple(t for t in TRANSITIONS if t.action != Action.WITHDRAW))
    offered = await world.client.get(url, headers=prosecution.headers(Role.PROSECUTOR))
    assert [a["action"] for a in offered.json()["items"]] == ["submit"]


async def test_the_api_documents_the_deadline_statuses(world: World) -> None:
    schema = (await world.client.get("/schema/openapi.json")).json()
    status = schema["components"]["schemas"]["DeadlineOut"]["properties"]["status"]
    named = schema["components"]["schemas"][status["$ref"].rsplit("/", 1)[-1]] if "$ref" in status else status
    assert sorted(named["enum"]) == sorted(s.value for s in DeadlineStatus)
