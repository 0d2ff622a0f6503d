"""Admin-editable deadline rules: an edit recomputes the open clocks that use the rule, each audited."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from mla.audit.models import AuditEvent
from mla.clock import FixedClock
from mla.enums import OrganisationKind, Role
from tests.factories import Org, World

RULES = "/api/v1/deadline-rules"
ADMIN_RULES = "/api/v1/admin/deadline-rules"
EDITABLE = (
    "name",
    "source",
    "meets_on",
    "routine_amount",
    "routine_unit",
    "urgent_amount",
    "urgent_unit",
    "emergency_amount",
    "emergency_unit",
    "reminder_leads_hours",
    "counting",
    "source_verified",
)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # START_OF_TESTS: Monday, 10:00 in Berlin
NEW_YORK = ZoneInfo("America/New_York")  # the factory's provider: its answers count on this calendar


def end_of_day_in_new_york(month: int, day: int, year: int = 2026) -> datetime:
    """Where a legal period ends (Reg. 1182/71 art 3(2)(b)): 23:59:59 of its last day, provider's time."""
    return datetime(year, month, day, 23, 59, 59, tzinfo=NEW_YORK)


async def act(
    world: World, org: Org, role: Role, request: dict[str, Any], action: str, **fields: Any
) -> dict[str, Any]:
    response = await world.client.post(
        f"/api/v1/requests/{request['id']}/actions/{action}",
        json={"version": request["version"], **fields},
        headers=org.headers(role),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def linked(world: World) -> tuple[Org, Org]:
    """A prosecution service and the central authority that reviews and transmits its requests."""
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    return await world.organisation(central_authority=authority), authority


async def transmit(world: World, prosecution: Org, authority: Org, **overrides: Any) -> dict[str, Any]:
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty(), **overrides)
    request = await act(world, prosecution, Role.PROSECUTOR, request, "submit")
    await world.attest_pending(authority, request)
    request = await act(world, authority, Role.CENTRAL_AUTHORITY, request, "approve")
    return await act(world, authority, Role.CENTRAL_AUTHORITY, request, "transmit")


async def deadlines_by_rule(world: World, org: Org, request: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    response = await world.client.get(f"/api/v1/requests/{request['id']}/deadlines", headers=org.headers())
    assert response.status_code == 200, response.text
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in response.json()["items"]:
        grouped.setdefault(item["rule"], []).append(item)
    return grouped


async def trail(world: World, org: Org, request: dict[str, Any]) -> list[dict[str, Any]]:
    response = await world.client.get(f"/api/v1/requests/{request['id']}/audit", headers=org.headers())
    assert response.status_code == 200, response.text
    return response.json()["items"]


def due(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["due_at"])


@pytest.fixture
async def admin(world: World) -> AsyncIterator[Org]:
    """A platform administrator; every rule is put back as it was afterwards (the rules are shared by all tests)."""
    org = await world.organisation()
    before = (await world.client.get(RULES, headers=org.headers(Role.PLATFORM_ADMIN))).json()["items"]
    yield org
    for rule in before:
        body = {name: rule[name] for name in EDITABLE}
        response = await world.client.patch(
            f"{ADMIN_RULES}/{rule['code']}", json=body, headers=org.headers(Role.PLATFORM_ADMIN)
        )
        assert response.status_code == 200, response.text


async def edit(world: World, admin: Org, code: str, **changes: Any) -> dict[str, Any]:
    response = await world.client.patch(
        f"{ADMIN_RULES}/{code}", json=changes, headers=admin.headers(Role.PLATFORM_ADMIN)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_every_user_reads_the_rules_with_their_sources(world: World) -> None:
    org = await world.organisation()

    response = await world.client.get(RULES, headers=org.headers(Role.PROSECUTOR))

    rules = {rule["code"]: rule for rule in response.json()["items"]}
    assert "art 10" in rules["epoc-response"]["source"]
    assert (rules["epoc-response"]["routine_amount"], rules["epoc-response"]["routine_unit"]) == (10, "calendar_days")
    assert rules["epoc-emergency-validation"]["routine_amount"] is None
    # Own service levels count `elapsed`; every period taken from a legal text counts `legal` (README).
    assert {code for code, rule in rules.items() if rule["counting"] == "elapsed"} == {
        "internal-review",
        "clarification-answer",
        "mla-follow-up",
        "preservation-confirmation",
        "incoming-acknowledge",
        "incoming-execution",
    }
    assert {code for code, rule in rules.items() if rule["counting"] == "legal"} == {
        "epoc-response",
        "epoc-enforcing-review",
        "epoc-emergency-validation",
        "epoc-pr-expiry",
        "preservation-expiry",
        "incoming-preservation-expiry",
        "2ap-7-response",
        "2ap-8-subscriber",
        "2ap-8-traffic",
    }
    assert rules["epoc-response"]["counting"] == "legal" and rules["epoc-response"]["responsible"] == "counterparty"
    one = await world.client.get(f"{RULES}/epoc-response", headers=org.headers(Role.PROSECUTOR))
    assert one.json() == rules["epoc-response"]


async def test_shortening_the_epoc_response_moves_open_deadlines_and_audits_each_request(
    world: World, clock: FixedClock, admin: Org, sessionmaker: Any
) -> None:
    """Sent Mon 2 Nov 2026: 10 days end Thu 12 Nov; 5 days end Sat 7 Nov, rolled to Mon 9 Nov
    (Reg. 1182/71 art 3(4)), both at 23:59:59 in the provider's New York."""
    prosecution, authority = await linked(world)
    request = await transmit(world, prosecution, authority, notified_enforcing_state="IE")
    fulfilled = await transmit(world, prosecution, authority)
    fulfilled = await act(world, prosecution, Role.PROSECUTOR, fulfilled, "fulfil")
    withdrawn = await transmit(world, prosecution, authority)
    withdrawn = await act(world, prosecution, Role.PROSECUTOR, withdrawn, "withdraw", reason="The suspect confessed.")
    closed_before = {r["id"]: await deadlines_by_rule(world, prosecution, r) for r in (fulfilled, withdrawn)}
    clock.advance(timedelta(days=1))

    rule = await edit(world, admin, "epoc-response", routine_amount=5)

    assert rule["routine_amount"] == 5 and rule["urgent_amount"] == 10
    [response] = (await deadlines_by_rule(world, prosecution, request))["epoc-response"]
    assert response["status"] == "open"
    assert due(response) == end_of_day_in_new_york(11, 9)
    assert "5 calendar days" in response["explanation"]
    assert "(10 calendar days became 5 calendar days)" in response["explanation"]
    [enforcing] = (await deadlines_by_rule(world, prosecution, request))["epoc-enforcing-review"]
    assert due(enforcing) == datetime(2026, 11, 12, 23, 59, 59, tzinfo=UTC)  # another rule, Dublin: untouched
    for closed in (fulfilled, withdrawn):
        assert await deadlines_by_rule(world, prosecution, closed) == closed_before[closed["id"]]

    events = await trail(world, prosecution, request)
    assert events[-1]["action"] == "recompute_deadline"
    assert events[-1]["from_status"] == events[-1]["to_status"] == "transmitted"
    assert events[-1]["changes"]["rule"] == "epoc-response"
    [moved] = events[-1]["changes"]["deadlines"]
    assert moved["id"] == response["id"]
    assert due({"due_at": moved["due_at"]["before"]}) == end_of_day_in_new_york(11, 12)
    assert due({"due_at": moved["due_at"]["after"]}) == end_of_day_in_new_york(11, 9)
    for closed in (fulfilled, withdrawn):
        assert "recompute_deadline" not in [event["action"] for event in await trail(world, prosecution, closed)]
    verdict = await world.client.get(f"/api/v1/requests/{request['id']}/audit/verify", headers=prosecution.headers())
    assert verdict.json()["valid"] is True

    queue = await world.client.get("/api/v1/queue", headers=authority.headers(Role.CENTRAL_AUTHORITY))
    [queued] = queue.json()["items"]
    assert due({"due_at": queued["next_due_at"]}) == end_of_day_in_new_york(11, 9)
    assert queued["next_deadline"]["rule"] == "epoc-response"

    async with sessionmaker() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.chain == "admin").order_by(AuditEvent.seq.desc()).limit(1)
        )
    assert event is not None and event.action == "update_deadline_rule"
    assert event.actor_id == admin.members[Role.PLATFORM_ADMIN].id
    assert event.changes["code"] == "epoc-response"
    assert event.changes["routine_amount"] == {"before": 10, "after": 5}
    assert event.changes["recomputed"]["deadlines"] >= 1


async def test_a_paused_clock_is_recomputed_stays_paused_and_earlier_pauses_are_kept(
    world: World, clock: FixedClock, admin: Org
) -> None:
    """A legal clock keeps the whole days its pauses added: paused Wed 4 to Sat 7 Nov (4 days), the
    10 days (Thu 12 Nov) had become Mon 16 Nov; cut to 5 days (Mon 9 Nov), it becomes Fri 13 Nov."""
    prosecution, authority = await linked(world)
    paused = await transmit(world, prosecution, authority)
    resumed = await transmit(world, prosecution, authority)
    clock.advance(timedelta(days=2))
    paused = await act(world, prosecution, Role.PROSECUTOR, paused, "request_clarification")
    resumed = await act(world, prosecution, Role.PROSECUTOR, resumed, "request_clarification")
    clock.advance(timedelta(days=3))
    await act(world, prosecution, Role.PROSECUTOR, resumed, "provide_clarification")  # 3 days paused

    await edit(world, admin, "epoc-response", routine_amount=5)

    [still_paused] = (await deadlines_by_rule(world, prosecution, paused))["epoc-response"]
    assert still_paused["paused_at"] is not None and still_paused["status"] == "open"
    assert due(still_paused) == end_of_day_in_new_york(11, 9)
    [kept] = (await deadlines_by_rule(world, prosecution, resumed))["epoc-response"]
    assert kept["paused_at"] is None
    assert due(kept) == end_of_day_in_new_york(11, 13)
    assert "paused earlier" in kept["explanation"]

    clock.advance(timedelta(days=1))
    paused = (await world.client.get(f"/api/v1/requests/{paused['id']}", headers=prosecution.headers())).json()
    await act(world, prosecution, Role.PROSECUTOR, paused, "provide_clarification")
    [running] = (await deadlines_by_rule(world, prosecution, paused))["epoc-response"]
    # Paused Wed 4 Nov, resumed Sun 8 Nov: 5 days do not count; Mon 9 Nov + 5 = Sat 14 Nov → Mon 16 Nov.
    assert due(running) == end_of_day_in_new_york(11, 16)


async def test_an_extension_keeps_its_length_while_a_first_expiry_moves(
    world: World, clock: FixedClock, admin: Org
) -> None:
    """Art 11(1) from receipt, Mon 2 Nov 2026: cut to 45 days, the expiry is Thu 17 Dec; the extended
    one keeps 60 days (Fri 1 Jan 2027, a US holiday → Mon 4 Jan) plus 30: Wed 3 Feb 2027."""
    prosecution, authority = await linked(world)
    first = await transmit(world, prosecution, authority, type="preservation", instrument="eu-epoc-pr")
    extended = await transmit(world, prosecution, authority, type="preservation", instrument="eu-epoc-pr")
    first = await act(world, prosecution, Role.PROSECUTOR, first, "confirm_preserved")
    extended = await act(world, prosecution, Role.PROSECUTOR, extended, "confirm_preserved")
    await act(world, prosecution, Role.PROSECUTOR, extended, "extend")

    await edit(world, admin, "epoc-pr-expiry", routine_amount=45)

    [expiry] = (await deadlines_by_rule(world, prosecution, first))["epoc-pr-expiry"]
    assert due(expiry) == end_of_day_in_new_york(12, 17)
    extension = next(
        d for d in (await deadlines_by_rule(world, prosecution, extended))["epoc-pr-expiry"] if d["status"] == "open"
    )
    assert due(extension) == end_of_day_in_new_york(2, 3, 2027)
    assert "recompute_deadline" not in [event["action"] for event in await trail(world, prosecution, extended)]


async def test_switching_a_rule_to_elapsed_counting_recomputes_its_open_clocks(
    world: World, admin: Org, sessionmaker: Any
) -> None:
    """`counting` is data on the rule: as `elapsed`, 10 days keep the start's time (Thu 12 Nov 09:00 UTC)."""
    prosecution, authority = await linked(world)
    request = await transmit(world, prosecution, authority)

    rule = await edit(world, admin, "epoc-response", counting="elapsed", source_verified=False)

    assert (rule["counting"], rule["source_verified"]) == ("elapsed", False)
    [response] = (await deadlines_by_rule(world, prosecution, request))["epoc-response"]
    assert due(response) == T0 + timedelta(days=10)
    assert response["counting"] == "elapsed" and response["source_verified"] is False
    assert "Counting: elapsed" in response["explanation"] and "Source not verified" in response["explanation"]
    async with sessionmaker() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.chain == "admin").order_by(AuditEvent.seq.desc()).limit(1)
        )
    assert event is not None and event.changes["counting"] == {"before": "legal", "after": "elapsed"}


async def test_a_clock_the_rule_no_longer_runs_is_cancelled(world: World, admin: Org) -> None:
    prosecution, authority = await linked(world)
    request = await transmit(world, prosecution, authority, notified_enforcing_state="IE")

    await edit(world, admin, "epoc-response", routine_amount=None)

    [response] = (await deadlines_by_rule(world, prosecution, request))["epoc-response"]
    assert response["status"] == "cancelled" and response["closed_by_action"] == "update_deadline_rule"
    [event] = [e for e in await trail(world, prosecution, request) if e["action"] == "recompute_deadline"]
    assert event["changes"]["deadlines"][0]["due_at"]["after"] is None
    queue = await world.client.get("/api/v1/queue", headers=authority.headers(Role.CENTRAL_AUTHORITY))
    assert queue.json()["items"][0]["next_deadline"]["rule"] == "epoc-enforcing-review"


async def test_an_edit_that_changes_nothing_records_nothing(world: World, admin: Org, sessionmaker: Any) -> None:
    async def admin_events() -> int:
        async with sessionmaker() as session:
            return len(list(await session.scalars(select(AuditEvent.id).where(AuditEvent.chain == "admin"))))

    before = await admin_events()

    await edit(world, admin, "epoc-response", routine_amount=10, routine_unit="calendar_days")

    assert await admin_events() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"routine_unit": "fortnights"}, "routine_unit"),
        ({"routine_amount": 0}, "routine_amount"),
        ({"routine_amount": "ten"}, "routine_amount"),
        ({"routine_amount": 5000}, "routine_amount"),  # over ten years of days
        ({"meets_on": ["fulfil", "celebrate"]}, "meets_on"),
        ({"meets_on": []}, "meets_on"),
        ({"reminder_leads_hours": [0]}, "reminder_leads_hours"),
        ({"name": " "}, "name"),
        ({"counting": "lunar"}, "counting"),
        ({"opens_on": "submit"}, "opens_on"),  # not editable
    ],
)
async def test_bad_values_are_422(world: World, admin: Org, body: dict[str, Any], field: str) -> None:
    response = await world.client.patch(
        f"{ADMIN_RULES}/epoc-response", json=body, headers=admin.headers(Role.PLATFORM_ADMIN)
    )

    assert response.status_code == 422, response.text
    assert field in response.json()["errors"][0]["field"]


async def test_a_rule_that_takes_its_length_from_the_instrument_refuses_an_amount(world: World, admin: Org) -> None:
    response = await world.client.patch(
        f"{ADMIN_RULES}/preservation-expiry", json={"routine_amount": 30}, headers=admin.headers(Role.PLATFORM_ADMIN)
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "routine_amount"


async def test_only_a_platform_admin_edits_and_an_unknown_code_is_404(world: World, admin: Org) -> None:
    org = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    body = {"routine_amount": 5}

    for role in (Role.PROSECUTOR, Role.CENTRAL_AUTHORITY, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN):
        response = await world.client.patch(f"{ADMIN_RULES}/epoc-response", json=body, headers=org.headers(role))
        assert response.status_code == 403, role
    unknown = await world.client.patch(
        f"{ADMIN_RULES}/no-such-rule", json=body, headers=admin.headers(Role.PLATFORM_ADMIN)
    )
    assert unknown.status_code == 404
    rule = (await world.client.get(f"{RULES}/epoc-response", headers=org.headers())).json()
    assert rule["routine_amount"] == 10
