"""Deadlines follow the workflow: opened, met, cancelled, paused and extended, each explained."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mla.clock import FixedClock
from mla.enums import OrganisationKind, Role
from tests.factories import EMERGENCY, Org, World


async def deadlines(world: World, org: Org, request: dict[str, Any]) -> list[dict[str, Any]]:
    response = await world.client.get(f"/api/v1/requests/{request['id']}/deadlines", headers=org.headers())
    assert response.status_code == 200, response.text
    return response.json()["items"]


def open_by_rule(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["rule"]: item for item in items if item["status"] == "open"}


async def test_emergency_epoc_is_due_eight_hours_after_transmission(world: World, clock: FixedClock) -> None:
    prosecution, _, request = await world.transmitted(**EMERGENCY)

    response = open_by_rule(await deadlines(world, prosecution, request))["epoc-response"]

    assert datetime.fromisoformat(response["due_at"]) == clock.now() + timedelta(hours=8)
    assert "8 hours" in response["explanation"] and "art 10" in response["explanation"]
    assert {"epoc-enforcing-review", "epoc-emergency-validation"} <= set(
        open_by_rule(await deadlines(world, prosecution, request))
    )


async def test_review_clock_runs_on_the_central_authority_calendar_and_is_met_by_approval(world: World) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY, country="FR", timezone="Europe/Paris")
    prosecution = await world.organisation(central_authority=authority)
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    # Wednesday 11 November 2026, 10:00 in Paris: Armistice Day, a French public holiday.
    world.clock.set(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))

    request = await world.act(prosecution, Role.PROSECUTOR, request, "submit")
    review = open_by_rule(await deadlines(world, prosecution, request))["internal-review"]
    await world.attest_pending(authority, request)
    await world.act(authority, Role.CENTRAL_AUTHORITY, request, "approve")

    # Tue 10 + 5 business days: Thu 12, Fri 13, Mon 16, Tue 17, Wed 18 (skipping Wed 11, a holiday, and the weekend).
    assert review["due_at"] == "2026-11-18T09:00:00Z"
    assert "Armistice" in review["explanation"]
    [met] = [d for d in await deadlines(world, prosecution, request) if d["rule"] == "internal-review"]
    assert met["status"] == "met" and met["closed_by_action"] == "approve"


async def test_withdrawal_cancels_every_open_clock(world: World) -> None:
    prosecution, _, request = await world.transmitted()

    await world.act(prosecution, Role.PROSECUTOR, request, "withdraw", reason="The suspect confessed.")

    statuses = {d["rule"]: d["status"] for d in await deadlines(world, prosecution, request)}
    assert statuses["epoc-response"] == "cancelled"
    assert "open" not in statuses.values()


async def test_clarification_pauses_the_counterparty_clock_and_keeps_the_remaining_time(
    world: World, clock: FixedClock
) -> None:
    prosecution, _, request = await world.transmitted()
    due = datetime.fromisoformat(open_by_rule(await deadlines(world, prosecution, request))["epoc-response"]["due_at"])

    clock.advance(timedelta(days=2))
    request = await world.act(prosecution, Role.PROSECUTOR, request, "request_clarification")
    paused = open_by_rule(await deadlines(world, prosecution, request))
    clock.advance(timedelta(days=3))
    await world.act(prosecution, Role.PROSECUTOR, request, "provide_clarification")
    resumed = open_by_rule(await deadlines(world, prosecution, request))

    assert paused["epoc-response"]["paused_at"] is not None
    assert "clarification-answer" in paused
    assert datetime.fromisoformat(resumed["epoc-response"]["due_at"]) == due + timedelta(days=3)
    assert "Paused" in resumed["epoc-response"]["explanation"]
    assert "clarification-answer" not in resumed


async def test_preservation_expiry_is_extended_from_the_previous_expiry(world: World, clock: FixedClock) -> None:
    prosecution, _, request = await world.transmitted(type="preservation", instrument="eu-epoc-pr")
    request = await world.act(prosecution, Role.PROSECUTOR, request, "confirm_preserved")
    expiry = open_by_rule(await deadlines(world, prosecution, request))["epoc-pr-expiry"]

    await world.act(prosecution, Role.PROSECUTOR, request, "extend")

    extended = open_by_rule(await deadlines(world, prosecution, request))["epoc-pr-expiry"]
    assert datetime.fromisoformat(expiry["due_at"]) == clock.now() + timedelta(days=60)
    assert datetime.fromisoformat(extended["due_at"]) == clock.now() + timedelta(days=90)
    assert "extended by 30 days" in extended["explanation"]


async def test_the_calculator_previews_what_an_action_would_open(world: World) -> None:
    org = await world.organisation()
    params = {
        "instrument": "us-2703f",
        "type": "preservation",
        "action": "confirm_preserved",
        "start": "2026-03-01T10:00:00+01:00",
    }

    response = await world.client.get("/api/v1/deadlines/preview", params=params, headers=org.headers())

    [item] = response.json()["items"]
    assert item["rule"] == "preservation-expiry"
    assert item["due_at"] == "2026-05-30T08:00:00Z"  # 90 days later, 10:00 in Berlin is now CEST (UTC+2)
    bad = await world.client.get(
        "/api/v1/deadlines/preview", params=params | {"instrument": "nope"}, headers=org.headers()
    )
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"start": "9999-12-31T23:00:00Z"}, "start", id="start whose deadline is after year 9999"),
        pytest.param({"instrument": "us-2703f\x00"}, "instrument", id="NUL in the instrument"),
        pytest.param({"action": "confirm_preserved\x00"}, "action", id="NUL in the action"),
    ],
)
async def test_the_calculator_refuses_what_it_cannot_look_up_or_compute(
    world: World, changes: dict[str, str], field: str
) -> None:
    """These used to overflow the arithmetic or reach PostgreSQL with a NUL: a 500, not a 422."""
    org = await world.organisation()
    params = {
        "instrument": "us-2703f",
        "type": "preservation",
        "action": "confirm_preserved",
        "start": "2026-03-01T10:00:00+01:00",
    }

    response = await world.client.get("/api/v1/deadlines/preview", params=params | changes, headers=org.headers())

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
