"""Users list their own in-app notifications, newest first, and mark them read."""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from mla.clock import FixedClock
from mla.enums import Role
from tests.alerts.support import add_notification, arrange_alert
from tests.factories import Org, World


@dataclass
class Inbox:
    org: Org
    mine: list[uuid.UUID]  # the prosecutor's, oldest first
    theirs: uuid.UUID  # the supervisor's


async def inbox(world: World, clock: FixedClock) -> Inbox:
    """Three notifications for the prosecutor, an hour apart, and one for the supervisor."""
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    mine = []
    for number in range(3):
        alert_id = await arrange_alert(world.sessionmaker, clock, request["id"])
        mine.append(
            await add_notification(
                world.sessionmaker, clock, alert_id, request["id"], org.members[Role.PROSECUTOR].id, f"Alert {number}"
            )
        )
        clock.advance(timedelta(hours=1))
    theirs = await add_notification(
        world.sessionmaker, clock, alert_id, request["id"], org.members[Role.SUPERVISOR].id, "Escalation"
    )
    return Inbox(org, mine, theirs)


async def listing(world: World, org: Org, role: Role = Role.PROSECUTOR, **params: Any) -> dict[str, Any]:
    response = await world.client.get("/api/v1/notifications", params=params, headers=org.headers(role))
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


async def test_a_user_lists_only_their_own_notifications_newest_first(world: World, clock: FixedClock) -> None:
    box = await inbox(world, clock)

    page = await listing(world, box.org)

    assert ids(page) == [str(n) for n in reversed(box.mine)]
    assert page["items"][0]["title"] == "Alert 2"
    assert page["items"][0]["read"] is False and page["items"][0]["read_at"] is None
    assert ids(await listing(world, box.org, Role.SUPERVISOR)) == [str(box.theirs)]
    assert ids(await listing(world, box.org, Role.CENTRAL_AUTHORITY)) == []


async def test_notifications_are_paginated_with_a_cursor(world: World, clock: FixedClock) -> None:
    box = await inbox(world, clock)

    first = await listing(world, box.org, limit=2)
    second = await listing(world, box.org, limit=2, cursor=first["next_cursor"])

    assert ids(first) + ids(second) == [str(n) for n in reversed(box.mine)]
    assert second["next_cursor"] is None


async def test_marking_read_is_idempotent_and_drives_the_unread_filter(world: World, clock: FixedClock) -> None:
    box = await inbox(world, clock)
    headers = box.org.headers()
    read_at = clock.now()

    first = await world.client.post(f"/api/v1/notifications/{box.mine[0]}/read", headers=headers)
    clock.advance(timedelta(minutes=5))
    again = await world.client.post(f"/api/v1/notifications/{box.mine[0]}/read", headers=headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["read"] is True and first.json()["id"] == str(box.mine[0])
    assert again.json()["read_at"] == first.json()["read_at"]
    assert first.json()["read_at"].replace("Z", "+00:00") == read_at.isoformat()
    assert ids(await listing(world, box.org, unread="true")) == [str(box.mine[2]), str(box.mine[1])]
    assert ids(await listing(world, box.org, unread="false")) == [str(box.mine[0])]


async def test_another_users_notification_is_not_found_and_stays_unread(world: World, clock: FixedClock) -> None:
    box = await inbox(world, clock)
    outsider = await world.organisation()

    colleague = await world.client.post(f"/api/v1/notifications/{box.theirs}/read", headers=box.org.headers())
    stranger = await world.client.post(f"/api/v1/notifications/{box.mine[0]}/read", headers=outsider.headers())
    missing = await world.client.post(f"/api/v1/notifications/{uuid.uuid4()}/read", headers=box.org.headers())

    assert (colleague.status_code, stranger.status_code, missing.status_code) == (404, 404, 404)
    assert colleague.headers["content-type"].startswith("application/problem+json")
    assert ids(await listing(world, box.org, Role.SUPERVISOR, unread="true")) == [str(box.theirs)]
    assert len(ids(await listing(world, box.org, unread="true"))) == 3


async def test_notifications_need_authentication(world: World) -> None:
    assert (await world.client.get("/api/v1/notifications")).status_code == 401


async def test_a_notification_about_a_request_the_user_may_no_longer_see_is_gone(
    world: World, clock: FixedClock
) -> None:
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    colleague = await world.member(org, Role.PROSECUTOR)
    alert_id = await arrange_alert(world.sessionmaker, clock, request["id"])
    notification = await add_notification(world.sessionmaker, clock, alert_id, request["id"], colleague.id, "Due soon")
    assert ids(await listing_of(world, colleague.headers)) == [str(notification)]

    # The creator makes the request confidential: only they (and its supervisors) may see it now.
    secret = {"confidential": True, "confidentiality_reason": "The suspect works here.", "version": request["version"]}
    edited = await world.client.patch(f"/api/v1/requests/{request['id']}", json=secret, headers=org.headers())
    assert edited.status_code == 200, edited.text

    assert ids(await listing_of(world, colleague.headers)) == []
    marked = await world.client.post(f"/api/v1/notifications/{notification}/read", headers=colleague.headers)
    assert marked.status_code == 404


async def listing_of(world: World, headers: dict[str, str]) -> dict[str, Any]:
    response = await world.client.get("/api/v1/notifications", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
