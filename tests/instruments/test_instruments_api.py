"""The instruments API: lookups by code, and an administrator's edits (only the fields sent, audited)."""

import pytest
from sqlalchemy import select

from mla.audit.models import AuditEvent
from mla.enums import Role
from tests.factories import World, unique


async def test_a_patch_changes_only_the_fields_it_sends_and_audits_them(world: World) -> None:
    """A PATCH that leaves fields out used to fail on them with a 500 (found by fuzzing)."""
    org = await world.organisation()
    headers = org.headers(Role.PLATFORM_ADMIN)
    body = {"code": unique("t").lower(), "title": "A test treaty", "citation": "Test Treaty, art. 1"}
    created = await world.client.post(
        "/api/v1/admin/instruments", json=body | {"request_types": ["mla"]}, headers=headers
    )
    assert created.status_code == 201, created.text

    edited = await world.client.patch(
        f"/api/v1/admin/instruments/{body['code']}", json={"title": "The test treaty"}, headers=headers
    )

    assert edited.status_code == 200, edited.text
    assert edited.json() | {"title": "A test treaty", "updated_at": None} == created.json() | {"updated_at": None}
    async with world.sessionmaker() as session:
        query = select(AuditEvent).where(
            AuditEvent.action == "update_instrument", AuditEvent.actor_id == org.members[Role.PLATFORM_ADMIN].id
        )
        [event] = await session.scalars(query)
    assert event.changes == {"code": body["code"], "title": {"before": "A test treaty", "after": "The test treaty"}}


@pytest.mark.parametrize(("method", "role"), [("GET", Role.PROSECUTOR), ("PATCH", Role.PLATFORM_ADMIN)])
async def test_a_code_with_a_nul_character_is_no_instrument(world: World, method: str, role: Role) -> None:
    """PostgreSQL cannot compare with U+0000: the lookup used to fail with a 500 (found by probing)."""
    org = await world.organisation()
    path = "/api/v1/instruments/eu%00epoc" if method == "GET" else "/api/v1/admin/instruments/eu%00epoc"
    body = {"title": "Renamed"} if method == "PATCH" else None

    response = await world.client.request(method, path, json=body, headers=org.headers(role))

    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
