"""Alert texts give times as their reader reads them: in the recipient organisation's time zone, to
the minute, the zone shown (`mla.local_time`), in the in-app notification, the e-mail and the
webhook's `title`/`text` alike; machine-readable fields stay in UTC."""

import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.alerts.models import Alert, Delivery
from mla.clock import FixedClock
from mla.enums import OrganisationKind, Role
from tests.alerts.test_recipients import received_by
from tests.alerts.test_scan import scan
from tests.factories import EMERGENCY, World

# The emergency review submitted Mon 2 Nov 09:00 UTC is due at 13:00 UTC.
DUE_IN_TOKYO = "Mon 2 Nov 2026, 22:00 JST"
DUE_IN_DUBLIN = "Mon 2 Nov 2026, 13:00 GMT"


async def deliveries_of(sessionmaker: async_sessionmaker[AsyncSession], request: dict[str, Any]) -> list[Delivery]:
    async with sessionmaker() as session:
        query = (
            select(Delivery)
            .join(Alert, Alert.id == Delivery.alert_id)
            .where(Alert.request_id == uuid.UUID(request["id"]), Alert.stage == "overdue")
        )
        return list(await session.scalars(query))


async def test_an_overdue_review_is_told_in_each_recipients_own_time_zone(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY, country="JP", timezone="Asia/Tokyo")
    prosecution = await world.organisation(country="IE", timezone="Europe/Dublin", central_authority=authority)
    webhook = await world.client.post(
        "/api/v1/admin/webhooks",
        json={
            "url": "https://alerts.example.org/mla",
            "secret": "s3cret-s3cret-s3cret",
            "organisation_id": str(authority.id),
        },
        headers=authority.headers(Role.ADMIN),
    )
    assert webhook.status_code == 201, webhook.text
    draft = await world.request(prosecution, await world.case(prosecution), await world.counterparty(), **EMERGENCY)
    request = await world.act(prosecution, Role.PROSECUTOR, draft, "submit")

    clock.advance(timedelta(hours=4, minutes=10))  # 13:10 UTC: overdue
    await scan(sessionmaker, clock)

    found = await received_by(sessionmaker, request)
    [(_, _, officer_text)] = [n for n in found[authority.members[Role.CENTRAL_AUTHORITY].id] if n[0] == "overdue"]
    [(_, _, prosecutor_text)] = found[prosecution.members[Role.PROSECUTOR].id]
    assert f"is due {DUE_IN_TOKYO} (overdue)" in officer_text
    assert f"is due {DUE_IN_DUBLIN} (overdue)" in prosecutor_text
    deliveries = await deliveries_of(sessionmaker, request)
    [email] = [d for d in deliveries if d.channel == "email"]
    [hook] = [d for d in deliveries if d.channel == "webhook"]
    assert email.recipient == authority.members[Role.CENTRAL_AUTHORITY].email and DUE_IN_TOKYO in email.body
    payload = json.loads(hook.body)
    assert DUE_IN_TOKYO in payload["text"] and payload["title"] == hook.subject
    assert payload["deadline"]["due_at"] == "2026-11-02T13:00:00+00:00"  # machine-readable: UTC
    for text in (officer_text, prosecutor_text, email.body, payload["text"]):
        assert "+00:00" not in text and ":00.0" not in text
