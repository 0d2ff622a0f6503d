"""Deadlines follow the workflow: opened, met, cancelled, paused and extended, each explained."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mla.clock import FixedClock
from mla.enums import OrganisationKind, Role
from tests.factories import EMERGENCY, Org, World

# The factory's provider is in the US: its calendar is New York's (EST in November).
NEW_YORK = ZoneInfo("America/New_York")


async def deadlines(world: World, org: Org, request: dict[str, Any]) -> list[dict[str, Any]]:
    response = await world.client.get(f"/api/v1/requests/{request['id']}/deadlines", headers=org.headers())
    assert response.status_code == 200, response.text
    return response.json()["items"]


def open_by_rule(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["rule"]: item for item in items if item["status"] == "open"}


async def test_emergency_epoc_is_due_eight_hours_after_transmission(world: World, clock: FixedClock) -> None:
    """Reg. 2023/1543 art 10(4): 8 hours, exact elapsed time. The enforcing-authority review and the
    validation clock open only for a notified order and one issued without prior validation."""
    prosecution, _, request = await world.transmitted(**EMERGENCY)

    clocks = open_by_rule(await deadlines(world, prosecution, request))

    response = clocks["epoc-response"]
    assert datetime.fromisoformat(response["due_at"]) == clock.now() + timedelta(hours=8)
    assert "8 hours" in response["explanation"] and "art 10(4)" in response["explanation"]
    assert set(clocks) == {"epoc-response"}


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


async def test_clarification_pauses_the_counterparty_clock_and_keeps_the_remaining_days(
    world: World, clock: FixedClock
) -> None:
    """Art 10(3), counted as Reg. 1182/71: sent Mon 2 Nov 2026, due Thu 12 Nov 23:59:59 in New York.
    Paused Wed 4 Nov, resumed Sat 7 Nov: the four days 4-7 Nov do not count, so Mon 16 Nov."""
    prosecution, _, request = await world.transmitted()
    due = datetime.fromisoformat(open_by_rule(await deadlines(world, prosecution, request))["epoc-response"]["due_at"])

    clock.advance(timedelta(days=2))
    request = await world.act(prosecution, Role.PROSECUTOR, request, "request_clarification")
    paused = open_by_rule(await deadlines(world, prosecution, request))
    clock.advance(timedelta(days=3))
    await world.act(prosecution, Role.PROSECUTOR, request, "provide_clarification")
    resumed = open_by_rule(await deadlines(world, prosecution, request))

    assert due == datetime(2026, 11, 12, 23, 59, 59, tzinfo=NEW_YORK)
    assert paused["epoc-response"]["paused_at"] is not None
    assert "clarification-answer" in paused
    # Our own answer runs on our calendar (Berlin), the provider's on its own (New York).
    assert (
        "Calendar: DE, time zone Europe/Berlin, of the requesting organisation"
        in (paused["clarification-answer"]["explanation"])
    )
    assert "Calendar: US, time zone America/New_York, of the provider" in paused["epoc-response"]["explanation"]
    assert datetime.fromisoformat(resumed["epoc-response"]["due_at"]) == datetime(
        2026, 11, 16, 23, 59, 59, tzinfo=NEW_YORK
    )
    assert "the 4 days of the pause, Wed 4 Nov to Sat 7 Nov both included" in resumed["epoc-response"]["explanation"]
    assert "clarification-answer" not in resumed


async def test_preservation_expiry_runs_from_receipt_and_is_extended_from_the_previous_expiry(
    world: World, clock: FixedClock
) -> None:
    """Reg. 2023/1543 art 11(1): 60 days from receipt (the transmission, Mon 2 Nov 2026), not from the
    confirmation a day later: day 60 is Fri 1 Jan 2027, a US holiday, so Mon 4 Jan 23:59:59 in New
    York; the 30-day extension counts from that expiry: Wed 3 Feb 2027."""
    prosecution, _, request = await world.transmitted(type="preservation", instrument="eu-epoc-pr")
    clock.advance(timedelta(days=1))
    request = await world.act(prosecution, Role.PROSECUTOR, request, "confirm_preserved")
    expiry = open_by_rule(await deadlines(world, prosecution, request))["epoc-pr-expiry"]

    await world.act(prosecution, Role.PROSECUTOR, request, "extend")

    extended = open_by_rule(await deadlines(world, prosecution, request))["epoc-pr-expiry"]
    assert datetime.fromisoformat(expiry["due_at"]) == datetime(2027, 1, 4, 23, 59, 59, tzinfo=NEW_YORK)
    assert datetime.fromisoformat(extended["due_at"]) == datetime(2027, 2, 3, 23, 59, 59, tzinfo=NEW_YORK)
    assert "extended by 30 days" in extended["explanation"]


async def test_the_calculator_previews_what_an_action_would_open(world: World) -> None:
    """18 U.S.C. § 2703(f): 90 days from receipt, Sun 1 Mar 2026 in Berlin; day 90 is Sat 30 May, so
    Mon 1 Jun 23:59:59 CEST on the organisation's calendar (no counterparty given); the confirmation
    clock (own service level) keeps the start's time of day."""
    org = await world.organisation()
    params = {
        "instrument": "us-2703f",
        "type": "preservation",
        "action": "transmit",
        "start": "2026-03-01T10:00:00+01:00",
    }

    response = await world.client.get("/api/v1/deadlines/preview", params=params, headers=org.headers())

    items = {item["rule"]: item for item in response.json()["items"]}
    assert items["preservation-expiry"]["due_at"] == "2026-06-01T21:59:59Z"
    assert items["preservation-confirmation"]["due_at"] == "2026-03-03T09:00:00Z"
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
