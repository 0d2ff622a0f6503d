"""The clocks the law sets (issue 10), with worked dates written from the legal texts.

Periods count as Reg. (EEC, Euratom) No 1182/71 arts 3-4 (the day of the event not counted, the end
of the last day, rolled to the next working day) on the calendar of the party who must act. The
tests run in November 2026 unless they say otherwise; Irish providers are on Europe/Dublin (GMT in
winter) and US ones on America/New_York.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.alerts.scan import ScanReport, scan_due_alerts
from mla.clock import FixedClock
from mla.enums import CounterpartyKind, OrganisationKind, Role
from tests.factories import EMERGENCY, Org, World, request_body

P = Role.PROSECUTOR
NEW_YORK = ZoneInfo("America/New_York")
EPOC_PR = {"type": "preservation", "instrument": "eu-epoc-pr"}


async def deadlines(world: World, org: Org, request: dict[str, Any]) -> list[dict[str, Any]]:
    response = await world.client.get(f"/api/v1/requests/{request['id']}/deadlines", headers=org.headers())
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def by_rule(world: World, org: Org, request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The latest clock of each rule (an extension replaces the expiry it extended)."""
    return {item["rule"]: item for item in await deadlines(world, org, request)}


async def current(world: World, org: Org, request: dict[str, Any]) -> dict[str, Any]:
    return (await world.client.get(f"/api/v1/requests/{request['id']}", headers=org.headers())).json()


async def action(world: World, org: Org, request: dict[str, Any], name: str, **fields: Any) -> Any:
    return await world.client.post(
        f"/api/v1/requests/{request['id']}/actions/{name}",
        json={"version": request["version"], **fields},
        headers=org.headers(P),
    )


async def scan(sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock) -> ScanReport:
    async with sessionmaker() as session, session.begin():
        return await scan_due_alerts(session, clock)


async def irish_provider(world: World) -> uuid.UUID:
    return await world.counterparty(country="IE")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def due(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["due_at"])


# --- EPOC response: Reg. 2023/1543 art 10(3), on the provider's calendar ------------------------


async def test_an_epoc_whose_tenth_day_is_a_saturday_is_due_monday_at_the_end_of_the_day_in_dublin(
    world: World, clock: FixedClock
) -> None:
    """Art 10(3): sent Wed 4 Nov 2026 15:20 to an Irish provider; day 10 is Sat 14 Nov, so the
    period ends Mon 16 Nov 23:59:59 Dublin time (Reg. 1182/71 art 3(4)), not Sat 15:20."""
    clock.set(utc(2026, 11, 4, 15, 20))
    prosecution, _, request = await world.transmitted(target_id=await irish_provider(world))

    response = (await by_rule(world, prosecution, request))["epoc-response"]

    assert due(response) == utc(2026, 11, 16, 23, 59, 59)
    assert response["counting"] == "legal" and response["source_verified"] is True
    explanation = response["explanation"]
    assert "Counting: legal (" in explanation and "the day of the event, 2026-11-04 Wed, is not counted" in explanation
    assert "Calendar: IE, time zone Europe/Dublin, of the provider" in explanation
    assert "ends Sat 14 Nov → Mon 16 Nov, end of day, Europe/Dublin; 14-15 Nov are a weekend" in explanation
    assert "art 10(3)" in explanation


async def test_a_period_over_christmas_on_the_irish_calendar_ends_after_saint_stephens_day(
    world: World, clock: FixedClock
) -> None:
    """Sent Wed 16 Dec 2026: day 10 is Sat 26 Dec; 25-26 Dec are Irish public holidays and 27 Dec a
    Sunday, so the provider has until Mon 28 Dec 23:59:59 (Reg. 1182/71 art 3(4))."""
    clock.set(utc(2026, 12, 16, 11, 0))
    prosecution, _, request = await world.transmitted(target_id=await irish_provider(world))

    response = (await by_rule(world, prosecution, request))["epoc-response"]

    assert due(response) == utc(2026, 12, 28, 23, 59, 59)
    assert "ends Sat 26 Dec → Mon 28 Dec, end of day, Europe/Dublin; 25-26 Dec are holidays" in response["explanation"]


async def test_an_acknowledged_receipt_time_restarts_the_epoc_response_from_receipt(
    world: World, clock: FixedClock
) -> None:
    """Art 10(3) counts from receipt: sent Mon 2 Nov 2026 (due Thu 12 Nov), received Tue 3 Nov by the
    provider's account: due Fri 13 Nov 23:59:59. A receipt before the transmission is refused."""
    prosecution, _, request = await world.transmitted(target_id=await irish_provider(world))
    clock.advance(timedelta(days=2))

    early = await action(world, prosecution, request, "acknowledge", received_at="2026-11-01T10:00:00Z")
    request = await world.act(prosecution, P, request, "acknowledge", received_at="2026-11-03T10:00:00+00:00")

    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "received_at"
    response = (await by_rule(world, prosecution, request))["epoc-response"]
    assert due(response) == utc(2026, 11, 13, 23, 59, 59)
    assert response["started_at"] == "2026-11-03T10:00:00Z"
    assert "acknowledged receipt" in response["explanation"]
    assert request["counterparty_received_at"] == "2026-11-03T10:00:00Z"


# --- EPOC enforcing-authority review: art 8, art 12(1) -------------------------------------------


async def test_the_enforcing_review_runs_only_for_notified_traffic_or_content_orders(world: World) -> None:
    """Art 8(1): notification (and so the review) only for traffic or content data; a subscriber-only
    order, or one not notified (art 8(2)), has no review clock."""
    provider = await irish_provider(world)
    prosecution, _, notified = await world.transmitted(target_id=provider, notified_enforcing_state="IE")
    others = [
        await world.transmitted(target_id=provider, notified_enforcing_state="IE", data_categories=["subscriber"]),
        await world.transmitted(target_id=provider),
    ]

    review = (await by_rule(world, prosecution, notified))["epoc-enforcing-review"]

    assert due(review) == utc(2026, 11, 12, 23, 59, 59)  # 10 days from Mon 2 Nov, Irish calendar
    assert "of the enforcing authority of IE" in review["explanation"]
    for owner, _, other in others:
        assert "epoc-enforcing-review" not in {d["rule"] for d in await deadlines(world, owner, other)}


async def test_the_enforcing_review_outlives_fulfilment_and_is_met_when_it_passes_without_objection(
    world: World, clock: FixedClock, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Art 12(1): the data may arrive before the 10 days end and an objection can still follow; when
    Thu 12 Nov 23:59:59 passes without one, the clock is met at its due moment (never overdue)."""
    prosecution, _, request = await world.transmitted(
        target_id=await irish_provider(world), notified_enforcing_state="IE"
    )
    clock.advance(timedelta(days=1))
    request = await world.act(prosecution, P, request, "fulfil")
    review = (await by_rule(world, prosecution, request))["epoc-enforcing-review"]
    assert (request["status"], review["status"]) == ("fulfilled", "open")

    clock.set(utc(2026, 11, 13, 0, 0, 30))
    report = await scan(sessionmaker, clock)

    passed = (await by_rule(world, prosecution, request))["epoc-enforcing-review"]
    assert report.passed >= 1
    assert (passed["status"], passed["closed_by_action"], passed["closed_at"]) == ("met", "passed", review["due_at"])
    trail = (await world.client.get(f"/api/v1/requests/{request['id']}/audit", headers=prosecution.headers())).json()
    assert trail["items"][-1]["action"] == "passed" and trail["items"][-1]["actor_id"] is None
    notifications = (await world.client.get("/api/v1/notifications", headers=prosecution.headers())).json()
    assert all(n["request_id"] != request["id"] for n in notifications["items"])  # nobody was chased
    request = await current(world, prosecution, request)
    late = await action(world, prosecution, request, "record_objection", grounds="Too late.", data_measure="delete")
    assert late.status_code == 409 and "without objection" in late.json()["detail"]


async def test_an_objection_after_the_data_arrived_is_recorded_and_the_data_must_be_deleted(world: World) -> None:
    """Art 12: an objection recorded on a fulfilled order keeps it fulfilled, meets the review clock
    and says what happens to the data; before the data, it ends the order (refused)."""
    provider = await irish_provider(world)
    prosecution, _, fulfilled = await world.transmitted(target_id=provider, notified_enforcing_state="IE")
    fulfilled = await world.act(prosecution, P, fulfilled, "fulfil")
    other, _, pending = await world.transmitted(target_id=provider, notified_enforcing_state="IE")
    third, _, not_notified = await world.transmitted(target_id=provider)
    grounds = "Art 12(1)(d): the data are protected by the privilege of a lawyer."

    fulfilled = await world.act(prosecution, P, fulfilled, "record_objection", grounds=grounds, data_measure="delete")
    pending = await world.act(other, P, pending, "record_objection", grounds=grounds, data_measure="restrict")
    refused = await action(world, third, not_notified, "record_objection", grounds=grounds, data_measure="delete")

    assert fulfilled["status"] == "fulfilled"
    assert fulfilled["enforcing_objection"]["data_measure"] == "delete"
    assert fulfilled["enforcing_objection"]["grounds"] == grounds
    review = (await by_rule(world, prosecution, fulfilled))["epoc-enforcing-review"]
    assert (review["status"], review["closed_by_action"]) == ("met", "record_objection")
    assert pending["status"] == "refused"
    assert (await by_rule(world, other, pending))["epoc-response"]["status"] == "cancelled"
    assert refused.status_code == 409
    again = await action(world, prosecution, fulfilled, "record_objection", grounds=grounds, data_measure="delete")
    assert again.status_code == 409


# --- Emergency validation: art 4(5) ---------------------------------------------------------------


async def police_order_without_prior_validation(world: World, **overrides: Any) -> tuple[Org, Org, dict[str, Any]]:
    """Art 4(5): a police unit (an authority of art 4(1)(b), which needs validation) issues an emergency
    EPOC for subscriber data without prior validation; its authority approves and transmits it."""
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    police = await world.organisation(OrganisationKind.LAW_ENFORCEMENT, central_authority=authority)
    values = {
        "data_categories": ["subscriber"],
        "issuing_judge_or_court": None,
        "order_reference": None,
        "issued_without_prior_validation": True,
    }
    draft = await world.request(police, await world.case(police), await world.counterparty(), **EMERGENCY, **values)
    return police, authority, await world.walk_to_transmitted(police, authority, draft)


async def issuer_competence(world: World, org: Org, request: dict[str, Any]) -> dict[str, Any]:
    checks = await world.client.get(f"/api/v1/requests/{request['id']}/checks", headers=org.headers())
    return next(c for c in checks.json()["items"] if c["code"] == "issuer_competence")


async def test_an_emergency_order_issued_without_prior_validation_must_be_validated_within_48_hours(
    world: World, clock: FixedClock
) -> None:
    """Art 4(5): the order passes the issuer check pending validation; 48 hours from transmission
    (Mon 2 Nov 09:00 UTC → Wed 4 Nov 09:00 UTC), not closed by the data arriving, met by `validate`
    with who validated, when and the reference."""
    police, _, request = await police_order_without_prior_validation(world)
    pending = await issuer_competence(world, police, request)
    assert pending["outcome"] == "pass" and "pending validation" in pending["explanation"]
    clock.advance(timedelta(hours=6))
    request = await world.act(police, P, request, "fulfil")
    validation = (await by_rule(world, police, request))["epoc-emergency-validation"]
    assert (validation["status"], due(validation)) == ("open", utc(2026, 11, 4, 9, 0))
    assert validation["counting"] == "legal"

    clock.advance(timedelta(hours=24))
    before = await action(world, police, request, "validate", validated_by="X", validated_at="2026-11-02T08:59:00Z")
    assert before.status_code == 422 and before.json()["errors"][0]["field"] == "validated_at"
    request = await world.act(
        police,
        P,
        request,
        "validate",
        validated_by="Public prosecutor S. Weber, Staatsanwaltschaft Köln",
        validated_at="2026-11-03T14:00:00+01:00",
        validation_reference="StA-KOELN-2026-481",
    )

    met = (await by_rule(world, police, request))["epoc-emergency-validation"]
    assert (met["status"], met["closed_by_action"]) == ("met", "validate")
    assert request["status"] == "fulfilled"
    assert request["validation"] == {
        "validated_by": "Public prosecutor S. Weber, Staatsanwaltschaft Köln",
        "validated_at": "2026-11-03T13:00:00Z",
        "reference": "StA-KOELN-2026-481",
    }
    validated = await issuer_competence(world, police, request)
    assert "validated ex post by Public prosecutor S. Weber" in validated["explanation"]
    twice = await action(world, police, request, "validate", validated_by="X", validated_at="2026-11-03T14:00:00Z")
    assert twice.status_code == 409


async def test_an_unvalidated_emergency_order_alerts_that_it_must_be_withdrawn(
    world: World, clock: FixedClock, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Art 4(5): past 48 hours (Wed 4 Nov 09:00 UTC) the overdue alert reminds the issuer that the
    order must be withdrawn and the data not used; 20 % of the window later (Wed 4 Nov 18:36 UTC) it
    escalates to the authority's supervisors with the same reminder. An order that needed no
    validation has no such clock and refuses `validate`."""
    police, authority, request = await police_order_without_prior_validation(world)
    other, _, validated_before = await world.transmitted(**EMERGENCY)

    clock.advance(timedelta(hours=49))
    await scan(sessionmaker, clock)
    clock.set(utc(2026, 11, 4, 18, 37))
    await scan(sessionmaker, clock)

    notifications = (await world.client.get("/api/v1/notifications", headers=police.headers())).json()["items"]
    [overdue] = [n for n in notifications if n["stage"] == "overdue" and "Validation of an emergency" in n["title"]]
    assert overdue["request_id"] == request["id"]
    assert "withdraw the order" in overdue["body"] and "do not use the data" in overdue["body"]
    escalations = (await world.client.get("/api/v1/notifications", headers=authority.headers(Role.SUPERVISOR))).json()
    [escalation] = [n for n in escalations["items"] if "Validation of an emergency" in n["title"]]
    assert (escalation["stage"], escalation["request_id"]) == ("escalation", request["id"])
    assert "withdraw the order" in escalation["body"] and "do not use the data" in escalation["body"]
    assert "epoc-emergency-validation" not in {d["rule"] for d in await deadlines(world, other, validated_before)}
    refused = await action(
        world, other, validated_before, "validate", validated_by="Judge B", validated_at="2026-11-02T10:00:00Z"
    )
    assert refused.status_code == 409


async def test_only_an_emergency_order_may_go_without_prior_validation(world: World) -> None:
    prosecution = await world.organisation()
    body = request_body(
        (await world.case(prosecution))["id"],
        await world.counterparty(),
        world.clock.now(),
        issued_without_prior_validation=True,
    )

    response = await world.client.post("/api/v1/requests", json=body, headers=prosecution.headers())

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "issued_without_prior_validation"


# --- Preservation: EPOC-PR art 11(1), 18 U.S.C. § 2703(f)(2), Budapest art 29(7) -----------------


async def test_a_preservation_never_confirmed_is_chased_and_its_expiry_runs_from_receipt(
    world: World, clock: FixedClock, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Transmitted Mon 2 Nov 2026 to an Irish provider: the confirmation clock (own SLA, 2 days) opens
    at once and alerts when the provider stays silent; the expiry (art 11(1): 60 days from receipt)
    is already running: day 60 is Fri 1 Jan 2027, an Irish holiday, so Mon 4 Jan 23:59:59. When the
    provider later says it received the order on Fri 6 Nov, the expiry moves to Tue 5 Jan 2027."""
    prosecution, _, request = await world.transmitted(target_id=await irish_provider(world), **EPOC_PR)
    clocks = await by_rule(world, prosecution, request)
    assert due(clocks["preservation-confirmation"]) == utc(2026, 11, 4, 9, 0)
    assert clocks["preservation-confirmation"]["counting"] == "elapsed"
    assert due(clocks["epoc-pr-expiry"]) == utc(2027, 1, 4, 23, 59, 59)

    clock.set(utc(2026, 11, 4, 10, 0))
    await scan(sessionmaker, clock)

    notifications = (await world.client.get("/api/v1/notifications", headers=prosecution.headers())).json()["items"]
    assert [n["stage"] for n in notifications if n["request_id"] == request["id"]] == ["overdue"]
    clock.set(utc(2026, 11, 6, 17, 0))
    request = await world.act(prosecution, P, request, "acknowledge", received_at="2026-11-06T08:30:00Z")
    clocks = await by_rule(world, prosecution, request)
    assert due(clocks["epoc-pr-expiry"]) == utc(2027, 1, 5, 23, 59, 59)
    assert clocks["preservation-confirmation"]["status"] == "open"
    request = await world.act(prosecution, P, request, "confirm_preserved")
    assert (await by_rule(world, prosecution, request))["preservation-confirmation"]["status"] == "met"


async def test_an_emergency_preservation_never_confirmed_is_chased_within_hours_and_its_lapse_escalates(
    world: World, clock: FixedClock, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """An emergency 18 U.S.C. § 2703(f) letter transmitted Mon 2 Nov 2026 09:00 UTC: the provider's
    confirmation is due in 4 hours (13:00, own SLA), escalated to the supervisors 20 % of the window
    later (13:48). The 90 days of § 2703(f)(2) run from receipt, visible before any confirmation: day 90
    is Sun 31 Jan 2027 → Mon 1 Feb 23:59:59 in New York. The provider never answers: when that passes,
    the prosecutor hears at once that the preservation lapsed and was never confirmed, and the
    authority's supervisors get the escalation at the same moment."""
    prosecution, authority, request = await world.transmitted(type="preservation", instrument="us-2703f", **EMERGENCY)
    clocks = await by_rule(world, prosecution, request)
    assert due(clocks["preservation-confirmation"]) == utc(2026, 11, 2, 13, 0)
    assert due(clocks["preservation-expiry"]) == datetime(2027, 2, 1, 23, 59, 59, tzinfo=NEW_YORK)
    assert "ends Sun 31 Jan → Mon 1 Feb, end of day, America/New_York" in clocks["preservation-expiry"]["explanation"]

    clock.set(utc(2026, 11, 2, 13, 50))
    await scan(sessionmaker, clock)
    clock.set(utc(2027, 2, 2, 5, 5))  # Mon 1 Feb 23:59:59 EST has passed
    await scan(sessionmaker, clock)
    clock.set(utc(2026, 11, 3))  # read back while the test's API tokens (90 days) are still valid

    mine = (await world.client.get("/api/v1/notifications", headers=prosecution.headers())).json()["items"]
    theirs = (await world.client.get("/api/v1/notifications", headers=authority.headers(Role.SUPERVISOR))).json()
    confirmation = "Confirmation of a preservation"
    assert [n["stage"] for n in mine if confirmation in n["title"]] == ["overdue"]
    assert [n["stage"] for n in theirs["items"] if confirmation in n["title"]] == ["escalation"]
    [lapsed] = [n for n in mine if n["title"].startswith("Preservation lapsed")]
    [escalated] = [n for n in theirs["items"] if n["title"].startswith("Preservation lapsed")]
    assert (lapsed["stage"], escalated["stage"]) == ("overdue", "escalation")
    assert "never confirmed the preservation" in lapsed["body"] and "no longer bound" in escalated["body"]
    request = await current(world, prosecution, request)
    expiry = (await by_rule(world, prosecution, request))["preservation-expiry"]
    # Never preserved, so it cannot lapse to `expired`: it stays transmitted and overdue until someone acts.
    assert (request["status"], expiry["status"]) == ("transmitted", "open")


async def test_a_preservation_confirmed_only_after_its_expiry_is_refused_unless_receipt_came_later(
    world: World, clock: FixedClock
) -> None:
    """Art 11(1): sent Mon 2 Nov 2026 to a New York provider, the duty to preserve ended Mon 4 Jan 2027
    23:59:59 EST. A confirmation on Tue 5 Jan 06:00 UTC preserves nothing (409); if the provider says
    it received the order Fri 6 Nov, the 60 days end Tue 5 Jan 23:59:59 EST and it is accepted."""
    prosecution, _, request = await world.transmitted(**EPOC_PR)
    clock.set(utc(2027, 1, 5, 6, 0))

    late = await action(world, prosecution, request, "confirm_preserved")
    received_later = await action(world, prosecution, request, "confirm_preserved", received_at="2026-11-06T15:00:00Z")

    assert late.status_code == 409 and "preservation period ended at 2027-01-05T04:59:59" in late.json()["detail"]
    assert received_later.status_code == 200, received_later.text
    assert received_later.json()["status"] == "preserved"
    expiry = (await by_rule(world, prosecution, request))["epoc-pr-expiry"]
    assert due(expiry) == datetime(2027, 1, 5, 23, 59, 59, tzinfo=NEW_YORK)


async def test_an_epoc_pr_is_extended_once_by_thirty_days_and_a_second_extension_is_refused(world: World) -> None:
    """Art 11(1): one extension of 30 days, asked within the 60 days. Expiry Mon 4 Jan 2027 (day 60,
    Fri 1 Jan, rolled past New Year in New York); extended from it to Wed 3 Feb 2027 23:59:59 EST."""
    prosecution, _, request = await world.transmitted(**EPOC_PR)
    too_long = await action(world, prosecution, request, "extend", days=45)
    request = await world.act(prosecution, P, request, "extend")

    second = await action(world, prosecution, request, "extend")

    assert too_long.status_code == 409 and "45 days were asked" in too_long.json()["detail"]
    extension = (await by_rule(world, prosecution, request))["epoc-pr-expiry"]
    assert due(extension) == datetime(2027, 2, 3, 23, 59, 59, tzinfo=NEW_YORK)
    assert request["status"] == "transmitted"  # extended before the provider confirmed
    assert second.status_code == 409
    problem = second.json()
    assert "at most 1 extension of at most 30 days" in problem["detail"]
    assert "already extended 1 time" in problem["detail"]
    assert problem["limit"] == {
        "instrument": "eu-epoc-pr",
        "max_extensions": 1,
        "extension_days": 30,
        "extensions_done": 1,
    }


async def test_a_us_preservation_letter_is_renewed_once_for_ninety_days_then_refused(world: World) -> None:
    """18 U.S.C. § 2703(f)(2): 90 days, one renewal of 90. Day 90 from Mon 2 Nov 2026 is Sun 31 Jan
    2027 → Mon 1 Feb; renewed from it, day 90 is Sun 2 May → Mon 3 May 2027 23:59:59 EDT."""
    prosecution, _, request = await world.transmitted(type="preservation", instrument="us-2703f")
    request = await world.act(prosecution, P, request, "confirm_preserved")
    first = (await by_rule(world, prosecution, request))["preservation-expiry"]
    request = await world.act(prosecution, P, request, "extend")

    refused = await action(world, prosecution, request, "extend", days=90)

    assert due(first) == datetime(2027, 2, 1, 23, 59, 59, tzinfo=NEW_YORK)
    renewed = (await by_rule(world, prosecution, request))["preservation-expiry"]
    assert due(renewed) == datetime(2027, 5, 3, 23, 59, 59, tzinfo=NEW_YORK)
    assert refused.status_code == 409 and refused.json()["limit"]["max_extensions"] == 1


async def test_a_budapest_preservation_has_no_cap_on_renewals(world: World) -> None:
    """Budapest art 29(7): not less than 60 days, renewable without a fixed cap (here three times)."""
    state = await world.counterparty(CounterpartyKind.STATE, country="FR")  # a Party (ETS 185 in force)
    prosecution, _, request = await world.transmitted(
        target_id=state, type="preservation", instrument="budapest-29", data_categories=["traffic"]
    )
    request = await world.act(prosecution, P, request, "confirm_preserved")

    for _ in range(3):
        request = await world.act(prosecution, P, request, "extend")

    expiries = [d for d in await deadlines(world, prosecution, request) if d["rule"] == "preservation-expiry"]
    assert [d["status"] for d in expiries] == ["met", "met", "met", "open"]
    assert due(expiries[-1]) >= utc(2027, 5, 1)


async def test_a_confirmed_production_request_keeps_an_epoc_pr_preserved_until_production(
    world: World, clock: FixedClock, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Art 11(1): once the issuer confirms, within the 60 days, that the production request was issued,
    the provider keeps the data until production: the expiry is met, not missed, and its end (Mon 4
    Jan 2027) passes without a lapse."""
    prosecution, authority, request = await world.transmitted(**EPOC_PR)
    request = await world.act(prosecution, P, request, "confirm_preserved")
    production = await world.request(prosecution, await world.case(prosecution), uuid.UUID(request["target_id"]))
    production = await world.walk_to_transmitted(prosecution, authority, production)

    request = await world.act(prosecution, P, request, "supersede", follow_up_request_id=production["id"])
    clock.set(utc(2027, 1, 5, 6, 0))
    await scan(sessionmaker, clock)
    clock.set(utc(2026, 11, 3))  # read back while the test's API tokens are valid

    expiry = (await by_rule(world, prosecution, request))["epoc-pr-expiry"]
    assert (expiry["status"], expiry["closed_by_action"]) == ("met", "supersede")
    assert (await current(world, prosecution, request))["status"] == "fulfilled"


async def test_a_follow_up_still_in_draft_does_not_end_the_preservation(
    world: World, clock: FixedClock, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Art 11(1) speaks of a production request that was issued: a draft follow-up is refused (409 naming
    the rule), nothing changes, and the expiry (Mon 4 Jan 2027) still runs and lapses the preservation."""
    prosecution, _, request = await world.transmitted(**EPOC_PR)
    request = await world.act(prosecution, P, request, "confirm_preserved")
    draft = await world.request(prosecution, await world.case(prosecution), uuid.UUID(request["target_id"]))

    refused = await action(world, prosecution, request, "supersede", follow_up_request_id=draft["id"])

    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/follow-up-not-sent") and problem["follow_up_status"] == "draft"
    assert "art 11(1)" in problem["detail"] and "art 29(7)" in problem["detail"]
    after = await current(world, prosecution, request)
    assert (after["status"], after["version"], after["follow_up_request_id"]) == ("preserved", request["version"], None)
    assert (await by_rule(world, prosecution, request))["epoc-pr-expiry"]["status"] == "open"
    clock.set(utc(2027, 1, 5, 6, 0))
    await scan(sessionmaker, clock)
    clock.set(utc(2026, 11, 3))  # read back while the test's API tokens are valid
    assert (await current(world, prosecution, request))["status"] == "expired"


async def test_an_extension_asked_after_the_expiry_is_refused(world: World, clock: FixedClock) -> None:
    prosecution, _, request = await world.transmitted(**EPOC_PR)
    clock.set(utc(2027, 1, 5, 6, 0))  # Mon 4 Jan 2027 23:59:59 in New York has passed

    response = await action(world, prosecution, request, "extend")

    assert response.status_code == 409 and "before it ends" in response.json()["detail"]


async def test_budapest_art_30_disclosure_is_recorded_on_the_art_29_request(world: World) -> None:
    """Art 30: while executing the art 29 request, the requested Party discloses enough traffic data to
    identify a provider in a third State: an outcome of that request, not a request of its own."""
    state = await world.counterparty(CounterpartyKind.STATE, country="FR")  # a Party (ETS 185 in force)
    prosecution, _, request = await world.transmitted(
        target_id=state, type="preservation", instrument="budapest-29", data_categories=["traffic"]
    )
    other, _, epoc_pr = await world.transmitted(**EPOC_PR)
    disclosure = "The communication passed through Example Hosting BV (NL), IP 192.0.2.10."

    request = await world.act(prosecution, P, request, "record_traffic_disclosure", disclosure=disclosure)
    refused = await action(world, other, epoc_pr, "record_traffic_disclosure", disclosure=disclosure)

    assert request["status"] == "transmitted"
    assert [d["disclosure"] for d in request["traffic_disclosures"]] == [disclosure]
    assert refused.status_code == 409
    instruments = (await world.client.get("/api/v1/instruments", headers=prosecution.headers())).json()["items"]
    assert "budapest-30" not in {i["code"] for i in instruments}


# --- Whose calendar and the calculator ------------------------------------------------------------


async def test_a_counterparty_gets_its_countrys_time_zone_unless_one_is_given(world: World) -> None:
    admin = await world.organisation()
    headers = admin.headers(Role.PLATFORM_ADMIN)

    irish = await world.client.post(
        "/api/v1/admin/counterparties", json={"kind": "provider", "name": "Eire Mail", "country": "IE"}, headers=headers
    )
    western = await world.client.post(
        "/api/v1/admin/counterparties",
        json={"kind": "provider", "name": "West Coast Mail", "country": "US", "timezone": "America/Los_Angeles"},
        headers=headers,
    )
    bad = await world.client.post(
        "/api/v1/admin/counterparties",
        json={"kind": "provider", "name": "Nowhere Mail", "country": "US", "timezone": "Mars/Olympus"},
        headers=headers,
    )

    assert irish.json()["timezone"] == "Europe/Dublin"
    assert western.json()["timezone"] == "America/Los_Angeles"
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "timezone"
    moved = await world.client.patch(
        f"/api/v1/admin/counterparties/{irish.json()['id']}", json={"timezone": "Europe/London"}, headers=headers
    )
    refused = await world.client.patch(
        f"/api/v1/admin/counterparties/{irish.json()['id']}", json={"timezone": "Europe/Atlantis"}, headers=headers
    )
    assert moved.json()["timezone"] == "Europe/London"
    assert refused.status_code == 422
    shown = await world.client.get(f"/api/v1/counterparties/{irish.json()['id']}", headers=admin.headers())
    assert shown.json()["timezone"] == "Europe/London"


async def test_the_calculator_counts_on_the_calendar_of_the_counterparty_it_is_given(world: World) -> None:
    """Sent Wed 4 Nov 2026 15:20 UTC: on a Berlin organisation's own calendar day 10 is Sat 14 Nov →
    Mon 16 Nov 23:59:59 CET; for a Los Angeles provider the same, in Pacific time."""
    org = await world.organisation()
    provider = await world.counterparty(country="US", timezone="America/Los_Angeles")
    params = {"instrument": "eu-epoc", "type": "production", "action": "transmit", "start": "2026-11-04T15:20:00Z"}

    own = await world.client.get("/api/v1/deadlines/preview", params=params, headers=org.headers())
    theirs = await world.client.get(
        "/api/v1/deadlines/preview", params=params | {"counterparty_id": str(provider)}, headers=org.headers()
    )

    [mine] = own.json()["items"]
    [provider_clock] = theirs.json()["items"]
    assert (mine["due_at"], mine["timezone"]) == ("2026-11-16T22:59:59Z", "Europe/Berlin")
    assert "No counterparty was given" in mine["explanation"]
    assert (provider_clock["due_at"], provider_clock["timezone"]) == ("2026-11-17T07:59:59Z", "America/Los_Angeles")
    assert provider_clock["counting"] == "legal" and provider_clock["source_verified"] is True


async def test_the_calculator_shows_the_conditional_epoc_clocks_only_when_asked(world: World) -> None:
    org = await world.organisation()
    params = {
        "instrument": "eu-epoc",
        "type": "production",
        "action": "transmit",
        "start": "2026-11-02T09:00:00Z",
        "urgency": "emergency",
    }

    plain = await world.client.get("/api/v1/deadlines/preview", params=params, headers=org.headers())
    both = await world.client.get(
        "/api/v1/deadlines/preview",
        params=params | {"enforcing_state": "IE", "without_prior_validation": "true"},
        headers=org.headers(),
    )

    assert {i["rule"] for i in plain.json()["items"]} == {"epoc-response"}
    clocks = {i["rule"]: i for i in both.json()["items"]}
    assert set(clocks) == {"epoc-response", "epoc-enforcing-review", "epoc-emergency-validation"}
    assert clocks["epoc-enforcing-review"]["due_at"] == "2026-11-06T09:00:00Z"  # 96 hours
    assert clocks["epoc-enforcing-review"]["timezone"] == "Europe/Dublin"


async def test_unverified_sources_are_flagged_in_the_rules_the_instruments_and_the_deadlines(world: World) -> None:
    """The Second Additional Protocol's art 7 and 8 periods and the UN Convention's article numbers
    could not be verified from the texts here."""
    org = await world.organisation()
    rules = {
        r["code"]: r for r in (await world.client.get("/api/v1/deadline-rules", headers=org.headers())).json()["items"]
    }
    instruments = {
        i["code"]: i for i in (await world.client.get("/api/v1/instruments", headers=org.headers())).json()["items"]
    }
    params = {"instrument": "2ap-7", "type": "subscriber_info", "action": "transmit", "start": "2026-11-02T09:00:00Z"}

    [preview] = (await world.client.get("/api/v1/deadlines/preview", params=params, headers=org.headers())).json()[
        "items"
    ]

    assert [rules[code]["source_verified"] for code in ("2ap-7-response", "2ap-8-traffic", "epoc-response")] == [
        False,
        False,
        True,
    ]
    assert {code for code, i in instruments.items() if not i["source_verified"]} == {
        "uncc-40",
        "uncc-42",
        "uncc-43",
        "uncc-44",
        "2ap-7",
        "2ap-8",
    }
    assert preview["source_verified"] is False
    assert "Source not verified" in preview["explanation"]
