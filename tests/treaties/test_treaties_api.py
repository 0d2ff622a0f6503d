"""Which state is bound by which treaty: seeded with sources, read by everyone, edited by admins, and
checked before a request resting on the treaty is approved."""

from typing import Any

from sqlalchemy import select

from mla.audit.models import AuditEvent
from mla.enums import CounterpartyKind, OrganisationKind, Role
from tests.factories import Org, World

TREATIES = "/api/v1/treaties"
BRAZIL = "/api/v1/admin/treaties/ets-185/parties/BR"


async def treaty(world: World, org: Org, code: str) -> dict[str, Any]:
    response = await world.client.get(f"{TREATIES}/{code}", headers=org.headers())
    assert response.status_code == 200, response.text
    return response.json()


def party(found: dict[str, Any], country: str) -> dict[str, Any] | None:
    return next((p for p in found["parties"] if p["country"] == country), None)


async def test_the_seed_says_who_is_bound_since_when_and_on_what_source(world: World) -> None:
    org = await world.organisation()

    budapest = await treaty(world, org, "ets-185")
    regulation = await treaty(world, org, "eu-2023-1543")
    listed = (await world.client.get(TREATIES, headers=org.headers())).json()["items"]

    germany = party(budapest, "DE")
    assert germany is not None
    assert (germany["signed_on"], germany["ratified_on"], germany["in_force_on"]) == (
        "2001-11-23",
        "2009-03-09",
        "2009-07-01",
    )
    assert "Treaty 185" in germany["source"] and germany["source_verified"] is False
    assert "budapest-29" in budapest["instrument_codes"] and budapest["kind"] == "multilateral"
    assert party(regulation, "FR")["in_force_on"] == "2026-08-18"  # type: ignore[index]
    assert party(regulation, "IE")["in_force_on"] == "2026-08-18"  # type: ignore[index]
    assert party(regulation, "DK")["in_force_on"] is None  # type: ignore[index]
    assert regulation["kind"] == "eu_regulation"
    assert {t["code"] for t in listed} >= {"ets-185", "cets-224", "uncc", "eu-2023-1543", "bilateral"}


async def test_a_request_to_a_state_the_convention_does_not_bind_is_blocked_until_it_is_recorded(
    world: World,
) -> None:
    """Worked example: Berlin asks Brazil (no record) for stored data under Budapest art 31."""
    prosecution, authority = await world.linked_pair()
    brazil = await world.counterparty(CounterpartyKind.STATE, country="BR")
    request = await world.request(
        prosecution,
        await world.case(prosecution),
        brazil,
        type="mla",
        instrument="budapest-31",
        data_categories=["content"],
    )
    officer = authority.headers(Role.CENTRAL_AUTHORITY)
    checks_url = f"/api/v1/requests/{request['id']}/checks"
    admin = authority.headers(Role.PLATFORM_ADMIN)
    await world.client.delete(BRAZIL, headers=admin)  # in case an earlier run left a record

    def in_force(checks: dict[str, Any]) -> dict[str, Any]:
        return next(c for c in checks["items"] if c["code"] == "instrument_in_force")

    unknown = in_force((await world.client.get(checks_url, headers=officer)).json())
    recorded = await world.client.put(
        BRAZIL,
        json={"signed_on": "2001-11-23", "in_force_on": "2026-01-01", "source": "Test record", "source_verified": True},
        headers=admin,
    )
    recorded_check = in_force((await world.client.get(checks_url, headers=officer)).json())
    removed = await world.client.delete(BRAZIL, headers=admin)

    assert unknown["outcome"] == "fail"
    assert "BR, the requested state (no record)" in unknown["explanation"]
    assert recorded.status_code == 200 and recorded.json()["in_force_on"] == "2026-01-01"
    # Germany's own record is seeded unverified: an officer confirms it.
    assert recorded_check["outcome"] == "needs_attestation"
    assert "DE: signed 2001-11-23" in recorded_check["explanation"]
    assert removed.status_code == 204
    async with world.sessionmaker() as session:
        events = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(["set_treaty_party", "remove_treaty_party"]))
            .order_by(AuditEvent.id)
        )
        trail = [(e.action, e.actor_id, e.changes["country"]) for e in events if e.changes["country"] == "BR"]
    who = authority.members[Role.PLATFORM_ADMIN].id
    assert trail[-2:] == [("set_treaty_party", who, "BR"), ("remove_treaty_party", who, "BR")]


async def test_editing_the_parties_is_for_platform_admins_audited_and_validated(world: World) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    admin = authority.headers(Role.PLATFORM_ADMIN)
    body = {"in_force_on": "2030-01-01", "source": "Test record"}

    by_officer = await world.client.put(BRAZIL, json=body, headers=authority.headers(Role.CENTRAL_AUTHORITY))
    bad_country = await world.client.put("/api/v1/admin/treaties/ets-185/parties/XX", json=body, headers=admin)
    unknown = await world.client.put("/api/v1/admin/treaties/no-such/parties/BR", json=body, headers=admin)
    no_source = await world.client.put(BRAZIL, json={"in_force_on": "2030-01-01"}, headers=admin)
    year = await world.client.put(BRAZIL, json=body | {"in_force_on": "0999-01-01"}, headers=admin)
    missing = await world.client.delete("/api/v1/admin/treaties/cets-224/parties/BR", headers=admin)

    assert (by_officer.status_code, bad_country.status_code, unknown.status_code) == (403, 422, 404)
    assert bad_country.json()["errors"][0]["field"] == "country"
    assert (no_source.status_code, year.status_code, missing.status_code) == (422, 422, 404)
    assert year.json()["errors"][0]["field"] == "in_force_on"
