"""Filing a draft request through the API and reading it back."""

from tests.factories import World


async def test_prosecutor_files_a_draft_and_reads_it_back(world: World) -> None:
    org = await world.organisation()
    provider = await world.counterparty()
    case = await world.case(org)

    created = await world.request(org, case, provider)

    assert created["status"] == "draft"
    assert created["version"] == 1
    assert created["reference"].startswith("PROD-2026-")
    response = await world.client.get(f"/api/v1/requests/{created['id']}", headers=org.headers())
    assert response.status_code == 200
    assert response.json() == created


async def test_request_of_another_organisation_is_not_found(world: World) -> None:
    owner = await world.organisation()
    stranger = await world.organisation()
    provider = await world.counterparty()
    created = await world.request(owner, await world.case(owner), provider)

    response = await world.client.get(f"/api/v1/requests/{created['id']}", headers=stranger.headers())

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
