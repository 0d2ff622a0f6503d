"""Administrators register organisations' webhooks; the secret goes in and never comes out."""

import json
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from mla.alerts.models import Webhook
from mla.audit.models import AuditEvent
from mla.enums import Role
from tests.factories import Org, World

SECRET = "s3cr3t-that-must-never-be-shown-again"


def webhook_body(org: Org, **overrides: Any) -> dict[str, Any]:
    return {"url": "https://alerts.example.org/mla?channel=ops", "secret": SECRET, "organisation_id": str(org.id)} | (
        overrides
    )


async def test_an_admin_registers_a_webhook_and_never_sees_its_secret_again(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    org = await world.organisation()
    caplog.set_level(logging.DEBUG)

    created = await world.client.post("/api/v1/admin/webhooks", json=webhook_body(org), headers=org.headers(Role.ADMIN))
    listed = await world.client.get("/api/v1/admin/webhooks", headers=org.headers(Role.ADMIN))

    assert created.status_code == 201, created.text
    webhook = created.json()
    assert webhook["url"] == "https://alerts.example.org/mla?channel=ops"
    assert webhook["organisation_id"] == str(org.id)
    assert webhook["active"] is True
    assert "secret" not in webhook and SECRET not in created.text
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [webhook["id"]]
    assert SECRET not in listed.text
    assert SECRET not in caplog.text
    async with world.sessionmaker() as session:
        stored = await session.get(Webhook, uuid.UUID(webhook["id"]))
        assert stored is not None and stored.secret == SECRET  # kept to sign deliveries
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "create_webhook", AuditEvent.organisation_id == org.id)
        )
    assert event is not None and event.chain == f"admin:{org.id}"
    assert event.changes["url"] == webhook["url"]
    assert SECRET not in json.dumps(event.changes)


async def test_the_list_holds_the_admins_own_organisation_only(world: World) -> None:
    org, other = await world.organisation(), await world.organisation()
    for owner in (org, org, other):
        response = await world.client.post(
            "/api/v1/admin/webhooks", json=webhook_body(owner), headers=owner.headers(Role.ADMIN)
        )
        assert response.status_code == 201, response.text
    headers = org.headers(Role.ADMIN)

    listed = await world.client.get("/api/v1/admin/webhooks", params={"limit": 1}, headers=headers)
    rest = await world.client.get(
        "/api/v1/admin/webhooks", params={"cursor": listed.json()["next_cursor"]}, headers=headers
    )

    items = listed.json()["items"] + rest.json()["items"]
    assert len(items) == 2 and {item["organisation_id"] for item in items} == {str(org.id)}
    assert rest.json()["next_cursor"] is None


@pytest.mark.parametrize(
    "role", [Role.PROSECUTOR, Role.CENTRAL_AUTHORITY, Role.SUPERVISOR, Role.AUDITOR, Role.PLATFORM_ADMIN]
)
async def test_only_the_organisations_admins_manage_webhooks_and_see_deliveries(world: World, role: Role) -> None:
    org = await world.organisation()
    headers = org.headers(role)

    created = await world.client.post("/api/v1/admin/webhooks", json=webhook_body(org), headers=headers)
    listed = await world.client.get("/api/v1/admin/webhooks", headers=headers)
    deliveries = await world.client.get("/api/v1/admin/deliveries", headers=headers)

    assert (created.status_code, listed.status_code, deliveries.status_code) == (403, 403, 403)
    async with world.sessionmaker() as session:
        assert await session.scalar(select(Webhook).where(Webhook.organisation_id == org.id)) is None


async def test_webhooks_need_authentication(world: World) -> None:
    assert (await world.client.get("/api/v1/admin/webhooks")).status_code == 401


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "ftp://alerts.example.org/mla"),
        ("url", "not a url"),
        ("url", "https://"),
        ("url", "https://user:password@alerts.example.org/mla"),
        ("url", "https://alerts.example.org/" + "a" * 500),
        ("secret", "too-short"),
        ("secret", "x" * 201),
        ("organisation_id", "5f0c6c1e-8a47-4a39-9c1e-2d6b1d9e7a10"),  # fixed: xdist workers must collect the same ids
        ("organisation_id", "not-a-uuid"),
    ],
)
async def test_bad_webhooks_are_refused_with_422_naming_the_field(world: World, field: str, value: str) -> None:
    org = await world.organisation()

    response = await world.client.post(
        "/api/v1/admin/webhooks", json=webhook_body(org, **{field: value}), headers=org.headers(Role.ADMIN)
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in {error["field"] for error in response.json()["errors"]}
    assert SECRET not in response.text
    if field == "secret":
        assert value not in response.text


async def test_a_missing_secret_is_refused(world: World) -> None:
    org = await world.organisation()
    body = webhook_body(org)
    del body["secret"]

    response = await world.client.post("/api/v1/admin/webhooks", json=body, headers=org.headers(Role.ADMIN))

    assert response.status_code == 422, response.text


async def test_deactivating_a_webhook_is_audited_and_idempotent(world: World) -> None:
    org = await world.organisation()
    headers = org.headers(Role.ADMIN)
    webhook = (await world.client.post("/api/v1/admin/webhooks", json=webhook_body(org), headers=headers)).json()

    first = await world.client.post(f"/api/v1/admin/webhooks/{webhook['id']}/deactivate", headers=headers)
    second = await world.client.post(f"/api/v1/admin/webhooks/{webhook['id']}/deactivate", headers=headers)
    unknown = await world.client.post(f"/api/v1/admin/webhooks/{uuid.uuid4()}/deactivate", headers=headers)

    assert (first.status_code, second.status_code, unknown.status_code) == (200, 200, 404)
    assert first.json()["active"] is False and SECRET not in first.text
    async with world.sessionmaker() as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "deactivate_webhook", AuditEvent.organisation_id == org.id
                )
            )
        ).all()
    assert len(events) == 1


async def test_the_deliveries_list_refuses_an_unknown_status(world: World) -> None:
    org = await world.organisation()

    response = await world.client.get(
        "/api/v1/admin/deliveries", params={"status": "lost"}, headers=org.headers(Role.ADMIN)
    )

    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["status"]
