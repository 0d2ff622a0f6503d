"""The desk's pages show what the API would show the same user, and refuse what it would refuse."""

import re
from datetime import timedelta
from typing import Any

from litestar import Litestar

from mla.clock import FixedClock
from mla.enums import OrganisationKind, Role
from tests.alerts.support import add_notification, arrange_alert
from tests.desk.support import DeskUser, csrf_of, desk_user, sign_in
from tests.factories import Org, World
from tests.productions.test_evidence_and_communications import production_body


async def submitted(world: World) -> tuple[Org, Org, dict[str, Any]]:
    prosecution, authority = await world.linked_pair()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    return prosecution, authority, await world.act(prosecution, Role.PROSECUTOR, request, "submit")


async def signed_in_officer(world: World, authority: Org) -> DeskUser:
    officer = await desk_user(world, authority, Role.CENTRAL_AUTHORITY)
    await sign_in(world.client, officer.email)
    return officer


def request_addresses(app: Litestar) -> list[tuple[str, str]]:
    """Every desk route about one request (method, path template): new pages are checked without a new test."""
    return sorted(
        (method, route.path)
        for route in app.routes
        if route.path.startswith("/desk/requests/{request_id")
        for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}
    )


async def test_another_organisations_request_is_not_found_on_every_desk_address(app: Litestar, world: World) -> None:
    _, _, request = await submitted(world)
    await signed_in_officer(world, await world.organisation(OrganisationKind.CENTRAL_AUTHORITY))
    token = csrf_of(await world.client.get("/desk/requests"))
    values = {"request_id": request["id"], "action": "approve", "code": "privileged_persons"}
    forms = {"attestation": {"outcome": "pass", "reason": "Looked at it."}, "assign": {"user_id": "me", "version": "2"}}

    answers = {}
    for method, template in request_addresses(app):
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda part: values[part.group(1)], template)
        form = {"_csrf": token} | forms.get(path.rsplit("/", 1)[-1], {"version": "2"})
        response = await world.client.request(method, path, data=form if method == "POST" else None)
        answers[(method, template)] = response.status_code
        assert request["reference"] not in response.text

    assert len(answers) >= 4 and set(answers.values()) == {404}, answers


async def test_the_queue_shows_a_new_request_with_its_deadline_in_the_users_time_zone(
    world: World, clock: FixedClock
) -> None:
    _, authority, request = await submitted(world)  # review due in 5 business days: Mon 9 Nov, 09:00 UTC
    clock.advance(timedelta(days=6, hours=20, minutes=48))
    await signed_in_officer(world, authority)

    page = await world.client.get("/desk/queue", params={"bucket": "new"})

    assert page.status_code == 200
    row = page.text[page.text.index(f'id="row-{request["id"]}"') :]
    assert "Under review" in row and "Nobody" in row
    assert "due in 3 h 12 min" in row  # 09:00 UTC is 10:00 in Berlin, the organisation's zone
    assert "Mon 9 Nov 2026, 10:00 CET" in row
    assert re.search(r'id="count-new">1<', page.text)


async def test_an_overdue_request_shows_how_long_in_red(world: World, clock: FixedClock) -> None:
    _, authority, request = await submitted(world)
    clock.advance(timedelta(days=9, hours=2))
    await signed_in_officer(world, authority)

    page = await world.client.get("/desk/queue", params={"bucket": "overdue"})

    assert '<span class="overdue">overdue by 2 d 2 h</span>' in page.text
    assert request["reference"] in page.text


async def test_queue_filters_narrow_the_rows_but_not_the_counts(world: World) -> None:
    prosecution, authority, routine = await submitted(world)
    emergency = await world.request(
        prosecution,
        await world.case(prosecution),
        await world.counterparty(),
        urgency="emergency",
        emergency_justification="A child is at immediate risk of sexual abuse.",
    )
    emergency = await world.act(prosecution, Role.PROSECUTOR, emergency, "submit")
    await signed_in_officer(world, authority)

    page = await world.client.get("/desk/queue", params={"urgency": "emergency", "type": "", "q": ""})

    assert emergency["reference"] in page.text and routine["reference"] not in page.text
    assert re.search(r'id="count-new">2<', page.text)


async def test_assigning_from_the_queue_answers_a_notice_and_asks_the_page_to_refresh(world: World) -> None:
    _, authority, request = await submitted(world)
    officer = await signed_in_officer(world, authority)
    token = csrf_of(await world.client.get("/desk/queue"))

    response = await world.client.post(
        f"/desk/requests/{request['id']}/assign",
        data={"user_id": "me", "version": str(request["version"])},
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "http://mla.test/desk/queue?bucket=new",
            "X-CSRF-Token": token,
        },
    )

    assert response.status_code == 200
    assert f"{request['reference']} assigned to {officer.name}." in response.text
    assert response.headers["HX-Trigger"] == "queue-changed"
    counts = await world.client.get("/desk/queue/counts")
    assert re.search(r'id="count-mine">1<', counts.text) and re.search(r'id="count-new">0<', counts.text)


async def test_a_stale_version_is_refused_with_a_reload_link_and_nothing_changes(world: World) -> None:
    _, authority, request = await submitted(world)
    await signed_in_officer(world, authority)
    page = await world.client.get(f"/desk/requests/{request['id']}")
    await world.act(authority, Role.CENTRAL_AUTHORITY, request, "return", reason="Add the period's time zone.")

    response = await world.client.post(
        f"/desk/requests/{request['id']}/actions/reject",
        data={"version": str(request["version"]), "reason": "Not proportionate."},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(page), "HX-Current-URL": str(page.url)},
    )

    assert response.status_code == 409
    assert "Changed since you opened it" in response.text
    assert f'href="/desk/requests/{request["id"]}"' in response.text
    status = await world.client.get(
        f"/api/v1/requests/{request['id']}", headers=authority.headers(Role.CENTRAL_AUTHORITY)
    )
    assert status.json()["status"] == "draft"


async def test_the_request_page_offers_only_the_actions_the_workflow_gives_this_user(world: World) -> None:
    prosecution, authority, request = await submitted(world)
    await signed_in_officer(world, authority)

    page = await world.client.get(f"/desk/requests/{request['id']}")

    offered = set(re.findall(r'/desk/requests/[^/]+/actions/([a-z_]+)"', page.text))
    api = await world.client.get(
        f"/api/v1/requests/{request['id']}/actions", headers=authority.headers(Role.CENTRAL_AUTHORITY)
    )
    assert offered == {item["action"] for item in api.json()["items"]} == {"approve", "return", "reject", "withdraw"}
    assert "Chain verified: 3 events" in page.text  # create, submit, and this page's read


async def test_viewing_another_organisations_request_is_one_recorded_read_on_its_trail(world: World) -> None:
    prosecution, authority, request = await submitted(world)
    officer = await signed_in_officer(world, authority)

    await world.client.get(f"/desk/requests/{request['id']}")

    trail = await world.client.get(
        f"/api/v1/requests/{request['id']}/audit", headers=prosecution.headers(Role.PROSECUTOR)
    )
    reads = [event for event in trail.json()["items"] if event["action"].startswith("read")]
    assert [(event["action"], event["actor_id"]) for event in reads] == [("read", str(officer.id))]


async def test_a_prosecutor_has_no_queue_as_in_the_api(world: World) -> None:
    prosecution = await world.organisation()
    prosecutor = await desk_user(world, prosecution, Role.PROSECUTOR)
    await sign_in(world.client, prosecutor.email)

    home = await world.client.get("/desk/")
    queue = await world.client.get("/desk/queue")

    assert home.headers["location"] == "/desk/requests"
    assert queue.status_code == 403 and "central authority officers" in queue.text


async def test_notifications_show_the_unread_count_and_are_marked_read(world: World, clock: FixedClock) -> None:
    org = await world.organisation()
    prosecutor = await desk_user(world, org, Role.PROSECUTOR)
    request = await world.request(org, await world.case(org), await world.counterparty())
    first, _ = [
        await add_notification(
            world.sessionmaker,
            clock,
            await arrange_alert(world.sessionmaker, clock, request["id"]),
            request["id"],
            prosecutor.id,
            title,
        )
        for title in ("Review overdue", "Escalation")
    ]
    await sign_in(world.client, prosecutor.email)
    page = await world.client.get("/desk/notifications")
    assert "Review overdue" in page.text and "Escalation" in page.text
    assert re.search(r'id="unread" class="badge"[^>]*>2<', page.text)

    marked = await world.client.post(
        f"/desk/notifications/{first}/read", headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(page)}
    )

    assert marked.status_code == 200 and "Read " in marked.text
    assert marked.headers["HX-Trigger"] == "notifications-changed"
    assert re.search(
        r">1<span class=\"visually-hidden\"> unread", (await world.client.get("/desk/notifications/unread")).text
    )


async def test_statistics_draw_the_api_figures_as_svg_and_export_the_same_period(world: World) -> None:
    prosecution, _, request = await submitted(world)
    prosecutor = await desk_user(world, prosecution, Role.PROSECUTOR)
    await sign_in(world.client, prosecutor.email)

    page = await world.client.get("/desk/stats", params={"from": "2026-11-02", "to": "2026-11-02"})
    later = await world.client.get("/desk/stats", params={"from": "2026-11-03"})
    export = await world.client.get("/desk/stats/export.csv", params={"from": "2026-11-02", "to": "2026-11-02"})

    assert page.status_code == 200 and re.search(r"<dt>Requests</dt><dd>1</dd>", page.text)
    assert 'role="img" aria-label="By status: Under review 1' in page.text
    assert re.search(r"<dt>Requests</dt><dd>0</dd>", later.text)
    api = await world.client.get(
        "/api/v1/stats/export.csv",
        params={"from": "2026-11-01T23:00:00+00:00", "to": "2026-11-02T23:00:00+00:00"},
        headers=prosecution.headers(Role.PROSECUTOR),
    )
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert export.text == api.text  # the period's dates read in Berlin time: the same figures


async def test_searching_by_identifier_shows_what_was_asked_about_it_to_whom_and_what_came_back(
    world: World,
) -> None:
    prosecution, authority, request = await world.transmitted()  # asks about suspect@example.com (the factory's)
    response = await world.client.post(
        f"/api/v1/requests/{request['id']}/productions",
        json=production_body(),
        headers=prosecution.headers(Role.PROSECUTOR),
    )
    assert response.status_code == 201, response.text
    unrelated = await world.request(
        prosecution,
        await world.case(prosecution),
        await world.counterparty(),
        identifiers=[{"kind": "email", "value": "someone.else@example.com"}],
    )
    prosecutor = await desk_user(world, prosecution, Role.PROSECUTOR)
    await sign_in(world.client, prosecutor.email)

    page = await world.client.get("/desk/requests", params={"identifier": " suspect@EXAMPLE.com "})

    assert request["reference"] in page.text and unrelated["reference"] not in page.text
    row = page.text[page.text.index(request["reference"]) :].split("</tr>")[0]
    assert "Transmitted" in row and "<td>1</td>" in row
    empty = await world.client.get("/desk/requests", params={"identifier": "nobody@example.com"})
    assert "No requests asked about “nobody@example.com”" in empty.text
