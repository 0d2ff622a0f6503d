"""Who an alert chases: the authority for its own clocks, the prosecutor for theirs; a lapse escalates at once."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.alerts.models import Alert, Delivery, Notification
from mla.clock import FixedClock
from mla.enums import Role
from tests.alerts.test_scan import scan
from tests.factories import EMERGENCY, Member, Org, World

OFFICER, SUPERVISOR, PROSECUTOR = Role.CENTRAL_AUTHORITY, Role.SUPERVISOR, Role.PROSECUTOR


async def received_by(
    sessionmaker: async_sessionmaker[AsyncSession], request: dict[str, Any]
) -> dict[uuid.UUID, list[tuple[str, str, str]]]:
    """Per user: (stage, title, body) of their notifications about the request."""
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Notification.user_id, Notification.stage, Notification.title, Notification.body)
            .where(Notification.request_id == uuid.UUID(request["id"]))
            .order_by(Notification.created_at, Notification.stage)
        )
    found: dict[uuid.UUID, list[tuple[str, str, str]]] = {}
    for user_id, stage, title, body in rows:
        found.setdefault(user_id, []).append((stage, title, body))
    return found


async def emailed(sessionmaker: async_sessionmaker[AsyncSession], request: dict[str, Any]) -> set[tuple[str, str]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Alert.stage, Delivery.recipient)
            .join(Alert, Alert.id == Delivery.alert_id)
            .where(Alert.request_id == uuid.UUID(request["id"]), Delivery.channel == "email")
        )
    return {(stage, recipient) for stage, recipient in rows}


def stages(found: dict[uuid.UUID, list[tuple[str, str, str]]], member: Member) -> list[str]:
    return [stage for stage, _, _ in found.get(member.id, [])]


async def emergency_under_review(world: World, **overrides: Any) -> tuple[Org, Org, dict[str, Any]]:
    """Submitted Mon 2 Nov 09:00 UTC: the review is due at 13:00, reminded at 12:00, escalated at 13:48."""
    prosecution, authority = await world.linked_pair()
    case = await world.case(prosecution)
    draft = await world.request(prosecution, case, await world.counterparty(), **EMERGENCY, **overrides)
    return prosecution, authority, await world.act(prosecution, PROSECUTOR, draft, "submit")


async def assign(world: World, request: dict[str, Any], *, by: Member, to: Member) -> None:
    assigned = await world.client.post(
        f"/api/v1/requests/{request['id']}/assign",
        json={"user_id": str(to.id), "version": request["version"]},
        headers=by.headers,
    )
    assert assigned.status_code == 200, assigned.text


async def test_an_unassigned_emergency_review_reminds_every_officer_of_the_authority(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    prosecution, authority, request = await emergency_under_review(world)
    officers = [authority.members[OFFICER], await world.member(authority, OFFICER)]
    prosecutor, supervisor = prosecution.members[PROSECUTOR], authority.members[SUPERVISOR]

    clock.advance(timedelta(hours=3, minutes=10))  # 12:10
    await scan(sessionmaker, clock)
    reminded = await received_by(sessionmaker, request)
    clock.advance(timedelta(hours=1))  # 13:10: overdue
    await scan(sessionmaker, clock)
    overdue = await received_by(sessionmaker, request)

    assert [stages(reminded, officer) for officer in officers] == [["reminder"], ["reminder"]]
    assert stages(reminded, prosecutor) == [] and stages(reminded, supervisor) == []
    assert [stages(overdue, officer) for officer in officers] == [["reminder", "overdue"]] * 2
    # The prosecutor cannot review their own request: informed in-app that it is late, never e-mailed.
    assert stages(overdue, prosecutor) == ["overdue"]
    assert {recipient for _, recipient in await emailed(sessionmaker, request)} == {o.email for o in officers}


async def test_an_assigned_review_chases_the_assignee_only_and_escalates_to_the_supervisors(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    prosecution, authority, request = await emergency_under_review(world)
    officer, colleague = authority.members[OFFICER], await world.member(authority, OFFICER)
    await assign(world, request, by=officer, to=colleague)

    clock.advance(timedelta(hours=4, minutes=50))  # 13:50: overdue, and escalated (13:48)
    await scan(sessionmaker, clock)
    found = await received_by(sessionmaker, request)

    assert "overdue" in stages(found, colleague) and stages(found, officer) == []
    assert stages(found, authority.members[SUPERVISOR]) == ["escalation"]
    assert "escalation" not in stages(found, prosecution.members[PROSECUTOR])


async def test_an_assignee_who_no_longer_handles_requests_is_not_chased_and_the_officers_are(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    _, authority, request = await emergency_under_review(world)
    officer, colleague = authority.members[OFFICER], await world.member(authority, OFFICER)
    await assign(world, request, by=officer, to=colleague)
    # The colleague moves to the audit team: they keep their account, not the handling of requests.
    demoted = await world.client.put(
        f"/api/v1/admin/users/{colleague.id}/roles", json={"roles": ["auditor"]}, headers=authority.headers(Role.ADMIN)
    )
    assert demoted.status_code == 200, demoted.text

    clock.advance(timedelta(hours=3, minutes=10))  # 12:10: the reminder
    await scan(sessionmaker, clock)
    found = await received_by(sessionmaker, request)

    assert stages(found, colleague) == []
    assert stages(found, officer) == ["reminder"]
    assert colleague.email not in {recipient for _, recipient in await emailed(sessionmaker, request)}


async def test_a_confidential_unassigned_review_reminds_the_supervisors_who_alone_may_see_it(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    secret = {"confidential": True, "confidentiality_reason": "The suspect is a police officer."}
    _, authority, request = await emergency_under_review(world, **secret)

    clock.advance(timedelta(hours=3, minutes=10))
    await scan(sessionmaker, clock)
    found = await received_by(sessionmaker, request)

    assert stages(found, authority.members[SUPERVISOR]) == ["reminder"]
    assert stages(found, authority.members[OFFICER]) == []


async def test_a_lapsing_preservation_alerts_prosecutor_and_assignee_and_escalates_at_once_with_what_was_lost(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    preservation = {"type": "preservation", "instrument": "eu-epoc-pr", "data_categories": ["subscriber", "traffic"]}
    prosecution, authority, request = await world.transmitted(**preservation)
    request = await world.act(prosecution, PROSECUTOR, request, "confirm_preserved")
    officer = authority.members[OFFICER]
    assigned = await world.client.post(
        f"/api/v1/requests/{request['id']}/assign",
        json={"user_id": str(officer.id), "version": request["version"]},
        headers=officer.headers,
    )
    assert assigned.status_code == 200, assigned.text
    deadlines = await world.client.get(f"/api/v1/requests/{request['id']}/deadlines", headers=prosecution.headers())
    expiry = next(d for d in deadlines.json()["items"] if d["kind"] == "preservation_expiry")

    clock.set(datetime.fromisoformat(expiry["due_at"]) + timedelta(minutes=5))
    await scan(sessionmaker, clock)
    found = await received_by(sessionmaker, request)

    def lapse_alerts(member: Member) -> list[tuple[str, str]]:
        return [
            (stage, body) for stage, title, body in found.get(member.id, []) if title.startswith("Preservation lapsed")
        ]

    supervisor = authority.members[SUPERVISOR]
    assert [stage for stage, _ in lapse_alerts(prosecution.members[PROSECUTOR])] == ["overdue"]
    assert [stage for stage, _ in lapse_alerts(officer)] == ["overdue"]
    [(stage, body)] = lapse_alerts(supervisor)
    assert stage == "escalation"
    assert "email suspect@example.com" in body and "subscriber, traffic data" in body
    assert "provider" in body and "no longer bound to keep the data" in body
    current = await world.client.get(f"/api/v1/requests/{request['id']}", headers=prosecution.headers())
    assert current.json()["status"] == "expired"


async def test_an_incoming_preservation_that_lapses_chases_the_authority_and_escalates_at_once(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    authority, request = await world.accepted(type="preservation", instrument="budapest-29", treaty_reference=None)
    request = await world.act(authority, OFFICER, request, "confirm_preserved")
    colleague = await world.member(authority, OFFICER)
    deadlines = await world.client.get(
        f"/api/v1/requests/{request['id']}/deadlines", headers=authority.headers(OFFICER)
    )
    expiry = next(d for d in deadlines.json()["items"] if d["rule"] == "incoming-preservation-expiry")

    clock.set(datetime.fromisoformat(expiry["due_at"]) + timedelta(minutes=5))
    await scan(sessionmaker, clock)
    found = await received_by(sessionmaker, request)

    # Our own duty to the requesting state: every officer while nobody is assigned, the supervisors at once.
    assert "overdue" in stages(found, colleague) and "overdue" in stages(found, authority.members[OFFICER])
    assert "escalation" in stages(found, authority.members[SUPERVISOR])
    current = await world.client.get(f"/api/v1/requests/{request['id']}", headers=authority.headers(OFFICER))
    assert current.json()["status"] == "expired"
