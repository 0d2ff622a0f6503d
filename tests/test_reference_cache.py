"""Reference data is cached per process, and an edit is seen by the very next request (a version, not a timer)."""

from sqlalchemy import update

from mla.enums import OrganisationKind, Role
from mla.organisations.models import Organisation
from tests.factories import World, request_body, unique


async def test_an_instrument_an_admin_adds_can_be_filed_on_by_the_next_request(world: World) -> None:
    org = await world.organisation()
    case, target = await world.case(org), await world.counterparty()
    code = unique("treaty").lower()
    body = request_body(case["id"], target, world.clock.now(), instrument=code, type="mla", data_categories=["content"])
    before = await world.client.post("/api/v1/requests", json=body, headers=org.headers())  # caches the catalogue

    added = await world.client.post(
        "/api/v1/admin/instruments",
        json={"code": code, "title": "A test treaty", "citation": "Test Treaty, art. 1", "request_types": ["mla"]},
        headers=org.headers(Role.PLATFORM_ADMIN),
    )
    after = await world.client.post("/api/v1/requests", json=body, headers=org.headers())

    assert before.status_code == 422 and before.json()["errors"][0]["field"] == "instrument"
    assert added.status_code == 201, added.text
    assert after.status_code == 201, after.text
    assert after.json()["instrument"] == code


async def test_an_organisation_linked_to_its_central_authority_files_through_it_from_the_next_request(
    world: World,
) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    service = await world.organisation()
    case, target = await world.case(service), await world.counterparty()
    unlinked = await world.request(service, case, target)  # caches the organisation without its authority

    async with world.sessionmaker() as session, session.begin():  # as an operator would, outside the API
        await session.execute(
            update(Organisation).where(Organisation.id == service.id).values(central_authority_id=authority.id)
        )
    linked = await world.request(service, case, target)

    assert unlinked["central_authority_id"] is None
    assert linked["central_authority_id"] == str(authority.id)
