"""An adversary's probes of the merged candidate (issue 9 and the new code paths since the last review).

Each test reproduces one attempt; those that hold guard against a regression.
"""

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.audit.models import AuditEvent
from mla.clock import FixedClock
from mla.enums import OrganisationKind, Role
from mla.reference import cache as reference_cache
from tests.desk.support import csrf_of, desk_user, sign_in
from tests.factories import EMERGENCY, Org, World

SECRET = {"confidential": True, "confidentiality_reason": "The suspect is a serving police officer."}
IDENTIFIER = "whistle.blower@example.net"


async def audit_event_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def submitted_secret(world: World) -> tuple[Org, Org, dict[str, Any]]:
    prosecution, authority = await world.linked_pair()
    identifiers = [{"kind": "email", "value": IDENTIFIER}]
    draft = await world.request(
        prosecution, await world.case(prosecution), await world.counterparty(), identifiers=identifiers, **SECRET
    )
    return prosecution, authority, await world.act(prosecution, Role.PROSECUTOR, draft, "submit")


async def test_identifier_search_finds_no_confidential_request_the_caller_may_not_see(world: World) -> None:
    prosecution, authority, request = await submitted_secret(world)
    stranger = await world.organisation(central_authority=authority)
    query = {"identifier": IDENTIFIER}

    def found(response: Any) -> list[str]:
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    own = await world.client.get("/api/v1/requests", params=query, headers=prosecution.headers())
    supervisor = await world.client.get("/api/v1/requests", params=query, headers=authority.headers(Role.SUPERVISOR))
    officer = await world.client.get(
        "/api/v1/requests", params=query, headers=authority.headers(Role.CENTRAL_AUTHORITY)
    )
    outsider = await world.client.get("/api/v1/requests", params=query, headers=stranger.headers())
    assert found(own) == [request["id"]] and found(supervisor) == [request["id"]]
    assert found(officer) == [] and found(outsider) == []

    officer_user = await desk_user(world, authority, Role.CENTRAL_AUTHORITY)
    await sign_in(world.client, officer_user.email)
    page = await world.client.get("/desk/requests", params=query)
    assert page.status_code == 200 and request["reference"] not in page.text


async def test_queue_counts_of_an_officer_leave_out_a_confidential_request_a_supervisor_counts(world: World) -> None:
    _, authority, _ = await submitted_secret(world)

    officer = await world.client.get("/api/v1/queue", headers=authority.headers(Role.CENTRAL_AUTHORITY))
    supervisor = await world.client.get("/api/v1/queue", headers=authority.headers(Role.SUPERVISOR))

    assert officer.status_code == 200 and supervisor.status_code == 200, (officer.text, supervisor.text)
    assert officer.json()["counts"]["new"] == 0 and officer.json()["items"] == []
    assert supervisor.json()["counts"]["new"] == 1 and len(supervisor.json()["items"]) == 1


async def test_foreign_case_edit_and_close_are_404_and_change_nothing(world: World) -> None:
    owner = await world.organisation()
    case = await world.case(owner)
    intruders = (await world.organisation(), await world.organisation(OrganisationKind.CENTRAL_AUTHORITY))
    before = await audit_event_count(world.sessionmaker)
    for intruder_org in intruders:
        for role in (Role.PROSECUTOR, Role.CENTRAL_AUTHORITY, Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR):
            headers = intruder_org.headers(role)
            edit = await world.client.patch(
                f"/api/v1/cases/{case['id']}", json={"version": 1, "title": "Taken over"}, headers=headers
            )
            close = await world.client.post(f"/api/v1/cases/{case['id']}/close", json={"version": 1}, headers=headers)
            assert (edit.status_code, close.status_code) == (404, 404), (role, edit.text, close.text)
    after = await world.client.get(f"/api/v1/cases/{case['id']}", headers=owner.headers())
    assert after.json()["title"] == case["title"] and after.json()["version"] == 1
    assert await audit_event_count(world.sessionmaker) == before


async def test_a_platform_admin_reads_no_case_data_through_the_new_routes(world: World) -> None:
    org = await world.organisation()
    case = await world.case(org)
    await world.request(org, case, await world.counterparty(), identifiers=[{"kind": "email", "value": IDENTIFIER}])
    headers = org.headers(Role.PLATFORM_ADMIN)

    answers = [
        await world.client.get("/api/v1/requests", params={"identifier": IDENTIFIER}, headers=headers),
        await world.client.get("/api/v1/cases", headers=headers),
        await world.client.patch(f"/api/v1/cases/{case['id']}", json={"version": 1, "title": "x"}, headers=headers),
        await world.client.post(f"/api/v1/cases/{case['id']}/close", json={"version": 1}, headers=headers),
        await world.client.get("/api/v1/queue", headers=headers),
    ]
    assert [answer.status_code for answer in answers] == [403] * len(answers)


async def test_a_disabled_users_token_and_desk_session_stop_at_once(world: World) -> None:
    org = await world.organisation()
    prosecutor = await desk_user(world, org, Role.PROSECUTOR)
    await sign_in(world.client, prosecutor.email)
    token_user = org.members[Role.PROSECUTOR]
    assert (await world.client.get("/desk/requests")).status_code == 200
    admin = org.headers(Role.ADMIN)
    for user_id in (prosecutor.id, token_user.id):
        disabled = await world.client.post(f"/api/v1/admin/users/{user_id}/disable", headers=admin)
        assert disabled.status_code == 200, disabled.text

    desk = await world.client.get("/desk/requests")
    api = await world.client.get("/api/v1/cases", headers=token_user.headers)
    assert desk.status_code in (302, 303) and "/desk/login" in desk.headers["location"]
    assert api.status_code == 401


async def test_refusals_of_accountable_readers_write_nothing(world: World) -> None:
    """An auditor's or the routed authority's refused write: no read or other event outlives the 4xx."""
    prosecution, authority, request = await submitted_secret(world)
    case_id = request["case_id"]
    before = await audit_event_count(world.sessionmaker)
    attempts = [
        ("PATCH", f"/api/v1/cases/{case_id}", {"version": 1, "title": "x"}, authority.headers(Role.SUPERVISOR)),
        ("POST", f"/api/v1/cases/{case_id}/close", {"version": 1}, authority.headers(Role.SUPERVISOR)),
        ("POST", f"/api/v1/cases/{case_id}/close", {"version": 1}, prosecution.headers(Role.AUDITOR)),
        ("POST", f"/api/v1/cases/{case_id}/close", {"version": 1}, prosecution.headers()),  # open request: 409
        (
            "POST",
            f"/api/v1/requests/{request['id']}/actions/approve",
            {"version": 99},
            authority.headers(Role.SUPERVISOR),
        ),
        (
            "POST",
            f"/api/v1/requests/{request['id']}/actions/withdraw",
            {"version": 1},
            prosecution.headers(Role.AUDITOR),
        ),
    ]
    for method, path, body, headers in attempts:
        response = await world.client.request(method, path, json=body, headers=headers)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
    assert await audit_event_count(world.sessionmaker) == before


async def test_a_rolled_back_reference_edit_never_reaches_the_process_cache(world: World) -> None:
    """An edit of an instrument read back in its own transaction (after authentication noted the version)
    must not be cached under the committed version once the transaction rolls back."""
    instrument = "eu-epoc"
    async with world.sessionmaker() as session, session.begin():
        committed = await reference_cache.current(session)
        original_title = committed.instrument(instrument).title  # type: ignore[union-attr]

    async with world.sessionmaker() as session, session.begin():  # an admin's committed edit: the cache is behind
        await session.execute(text("UPDATE instruments SET title = title WHERE code = :code"), {"code": instrument})

    async with world.sessionmaker() as session:
        await session.begin()
        # Authentication notes the version in the request's transaction (mla.users.repository).
        version = int(await session.scalar(text("SELECT version FROM reference_data_version")) or 0)
        reference_cache.remember_version(session, version)
        await session.execute(
            text("UPDATE instruments SET title = 'Forged by a rolled-back edit' WHERE code = :code"),
            {"code": instrument},
        )
        await reference_cache.current(session)
        await session.rollback()

    async with world.sessionmaker() as session, session.begin():
        seen = await reference_cache.current(session)
    assert seen.instrument(instrument).title == original_title  # type: ignore[union-attr]


async def test_bad_text_in_query_and_body_is_never_a_500_and_changes_nothing(world: World) -> None:
    org = await world.organisation()
    case = await world.case(org)
    headers = org.headers()
    probes = [
        ("GET", "/api/v1/requests?identifier=%ED%A0%80", None),
        ("GET", "/api/v1/requests?q=%ED%A0%80", None),
        ("GET", "/api/v1/requests?identifier=%FF%FE", None),
        ("PATCH", f"/api/v1/cases/{case['id']}", b'{"version": 1, "title": "\\ud800"}'),
        ("PATCH", f"/api/v1/cases/{case['id']}", b'{"version": 1, "title": "a\\u0000b"}'),
        ("PATCH", f"/api/v1/cases/{case['id']}", b'{"version": 100000000000000000000000, "title": "x"}'),
        ("PATCH", f"/api/v1/cases/{case['id']}", b'{"version": 1, "reference": "  "}'),
        ("POST", f"/api/v1/cases/{case['id']}/close", b'{"version": 1.5}'),
    ]
    answers = {}
    for method, path, body in probes:
        extra = {} if body is None else {"content": body, "headers": headers | {"Content-Type": "application/json"}}
        response = await world.client.request(method, path, **({"headers": headers} | extra))
        answers[(method, path, body)] = response.status_code
    assert all(status < 500 for status in answers.values()), answers
    after = await world.client.get(f"/api/v1/cases/{case['id']}", headers=headers)
    assert after.json()["version"] == 1


async def test_a_confidential_requests_alert_reaches_only_those_who_may_see_it(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """A confidential emergency review's alerts: the authority's supervisors and the prosecutor, nobody else;
    no webhook (its receiver is the organisation's system, run by admins who may not see the request)."""
    from tests.alerts.test_recipients import received_by
    from tests.alerts.test_scan import add_webhook, scan

    prosecution, authority = await world.linked_pair()
    case = await world.case(prosecution)
    draft = await world.request(prosecution, case, await world.counterparty(), **EMERGENCY, **SECRET)
    request = await world.act(prosecution, Role.PROSECUTOR, draft, "submit")
    await add_webhook(sessionmaker, clock, authority)
    await add_webhook(sessionmaker, clock, prosecution)

    clock.advance(timedelta(hours=5))
    await scan(sessionmaker, clock)

    found = await received_by(sessionmaker, request)
    may_see = {authority.members[Role.SUPERVISOR].id, prosecution.members[Role.PROSECUTOR].id}
    assert found and set(found) <= may_see, found
    async with sessionmaker() as session:
        hooks = await session.execute(
            text(
                "SELECT w.organisation_id FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
                "JOIN webhooks w ON w.id = d.webhook_id WHERE a.request_id = :id"
            ),
            {"id": uuid.UUID(request["id"])},
        )
        organisations = {row.organisation_id for row in hooks}
    assert organisations == set()


async def test_the_case_of_a_confidential_request_shows_only_to_those_who_may_see_the_request(world: World) -> None:
    """A case is routed to an authority by its requests: a confidential one routes it to the supervisors only,
    or an officer would learn that a confidential request about this case was sent to the authority."""
    prosecution, authority, request = await submitted_secret(world)
    case_id = request["case_id"]
    officer, supervisor = authority.headers(Role.CENTRAL_AUTHORITY), authority.headers(Role.SUPERVISOR)

    officer_read = await world.client.get(f"/api/v1/cases/{case_id}", headers=officer)
    officer_list = await world.client.get("/api/v1/cases", headers=officer)
    supervisor_read = await world.client.get(f"/api/v1/cases/{case_id}", headers=supervisor)

    assert supervisor_read.status_code == 200
    assert officer_read.status_code == 404, officer_read.text
    assert case_id not in {case["id"] for case in officer_list.json()["items"]}


async def test_refusing_to_close_a_case_names_no_confidential_request_the_caller_may_not_see(world: World) -> None:
    prosecution, _, request = await submitted_secret(world)
    colleague = await world.member(prosecution, Role.PROSECUTOR)
    hidden = await world.client.get(f"/api/v1/requests/{request['id']}", headers=colleague.headers)
    assert hidden.status_code == 404

    refused = await world.client.post(
        f"/api/v1/cases/{request['case_id']}/close", json={"version": 1}, headers=colleague.headers
    )

    assert refused.status_code == 409, refused.text
    assert request["reference"] not in refused.text
    assert refused.json()["open_requests"] == []


async def test_an_escalation_without_a_central_authority_reaches_no_one_who_may_not_see_the_request(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    from tests.alerts.test_recipients import received_by
    from tests.alerts.test_scan import scan

    org = await world.organisation()  # no central authority: the prosecution service transmits itself
    draft = await world.request(org, await world.case(org), await world.counterparty(), **EMERGENCY, **SECRET)
    submitted = await world.client.post(
        f"/api/v1/requests/{draft['id']}/actions/submit", json={"version": draft["version"]}, headers=org.headers()
    )
    assert submitted.status_code == 409 and "no-central-authority" in submitted.json()["type"]
    for hours in (5, 12, 24, 72, 24 * 10, 24 * 40):
        clock.set(clock.now() + timedelta(hours=hours))
        await scan(sessionmaker, clock)
    found = await received_by(sessionmaker, draft)
    assert found == {}


async def test_malformed_input_to_the_new_routes_and_the_desk_is_a_4xx_and_writes_nothing(world: World) -> None:
    prosecution, authority, request = await submitted_secret(world)
    case_url = f"/api/v1/cases/{request['case_id']}"
    headers = prosecution.headers()
    json_headers = headers | {"Content-Type": "application/json"}
    officer = await desk_user(world, authority, Role.CENTRAL_AUTHORITY)
    draft = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    plain = await world.act(prosecution, Role.PROSECUTOR, draft, "submit")
    before = await audit_event_count(world.sessionmaker)
    api_probes: list[tuple[str, str, Any]] = [
        ("GET", "/api/v1/requests?status=draft&status=bogus", None),
        ("GET", "/api/v1/requests?identifier=" + "a" * 5000, None),
        ("GET", "/api/v1/requests?case=not-a-uuid", None),
        ("GET", "/api/v1/cases?cursor=%00", None),
        ("PATCH", case_url, b"null"),
        ("PATCH", case_url, b"[]"),
        ("PATCH", case_url, b'{"version": 1, "offences": []}'),
        ("PATCH", case_url, b'{"version": 1, "offences": null}'),
        ("PATCH", case_url, b'{"version": 1, "summary": null}'),
        ("PATCH", case_url, b'{"version": 1, "title": "' + b"t" * 100_000 + b'"}'),
        ("PATCH", case_url, b'{"version": 1, "reference": "a\\u0000"}'),
        ("PATCH", case_url, b'{"version": -1}'),
        ("POST", case_url + "/close", b"{}"),
        ("POST", case_url + "/close", b'{"version": 1, "extra": true}'),
    ]
    answers: dict[Any, int] = {}
    for method, path, body in api_probes:
        response = await world.client.request(method, path, content=body, headers=json_headers if body else headers)
        answers[(method, path[:80], None if body is None else body[:60])] = response.status_code

    assert await audit_event_count(world.sessionmaker) == before
    await sign_in(world.client, officer.email)
    page = await world.client.get("/desk/queue")
    token = csrf_of(page)
    before_desk = await audit_event_count(world.sessionmaker)  # the queue page's own read is recorded
    base = f"/desk/requests/{plain['id']}"
    desk_probes = [
        (base + "/assign", {"user_id": "not-a-uuid", "version": "2"}),
        (base + "/assign", {"user_id": str(uuid.uuid4()), "version": "2"}),
        (base + "/assign", {"user_id": "me", "version": "99999999999999999999999"}),
        (base + "/actions/approve", {"version": "x"}),
        (base + "/actions/postpone", {"version": "2", "until": "0001-01-01T00:00"}),
        (base + "/actions/%00", {"version": "2"}),
        (base + "/checks/%00/attestation", {"outcome": "pass", "reason": "x" * 10}),
        ("/desk/requests?identifier=%00", None),
        ("/desk/requests?cursor=garbage", None),
        ("/desk/queue?cursor=garbage", None),
    ]
    for path, form in desk_probes:
        if form is None:
            response = await world.client.get(path)
        else:
            response = await world.client.post(path, data={"_csrf": token, **form})
        answers[("desk", path[-40:], str(form)[:40])] = response.status_code

    assert all(400 <= status < 500 for status in answers.values()), {
        k: v for k, v in answers.items() if not 400 <= v < 500
    }
    assert await audit_event_count(world.sessionmaker) == before_desk


async def test_a_request_is_assigned_to_no_one_who_does_not_handle_requests(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """Assigned to the authority's platform administrator (or an admin, an auditor), the request's alerts
    would mail them its reference and deadlines, and the assignee of a confidential request may read it."""
    from tests.alerts.test_recipients import received_by
    from tests.alerts.test_scan import scan

    prosecution, authority = await world.linked_pair()
    draft = await world.request(prosecution, await world.case(prosecution), await world.counterparty(), **EMERGENCY)
    request = await world.act(prosecution, Role.PROSECUTOR, draft, "submit")
    officer = authority.headers(Role.CENTRAL_AUTHORITY)
    outsiders = [authority.members[role] for role in (Role.PLATFORM_ADMIN, Role.ADMIN, Role.AUDITOR)]
    for outsider in outsiders:
        assigned = await world.client.post(
            f"/api/v1/requests/{request['id']}/assign",
            json={"user_id": str(outsider.id), "version": request["version"]},
            headers=officer,
        )
        assert assigned.status_code == 422, (outsider.email, assigned.text)

    clock.advance(timedelta(hours=5))
    await scan(sessionmaker, clock)
    assert not {outsider.id for outsider in outsiders} & set(await received_by(sessionmaker, request))
