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


async def test_marking_a_draft_confidential_may_rely_on_the_stored_reason(world: World) -> None:
    org = await world.organisation()
    reason = "Disclosure to the account holder would alert the suspect."
    created = await world.request(
        org, await world.case(org), await world.counterparty(), confidential=True, confidentiality_reason=reason
    )
    url = f"/api/v1/requests/{created['id']}"

    public = await world.client.patch(url, json={"version": 1, "confidential": False}, headers=org.headers())
    private = await world.client.patch(url, json={"version": 2, "confidential": True}, headers=org.headers())

    assert public.status_code == 200 and private.status_code == 200
    assert private.json()["confidential"] is True


async def test_identifier_windows_are_stored_in_utc(world: World) -> None:
    org = await world.organisation()
    window = {
        "kind": "ip",
        "value": "192.0.2.1",
        "from": "2026-10-01T10:00:00+02:00",
        "to": "2026-10-02T10:00:00+02:00",
    }
    created = await world.request(org, await world.case(org), await world.counterparty(), identifiers=[window])

    [identifier] = created["identifiers"]
    assert (identifier["from"], identifier["to"]) == ("2026-10-01T08:00:00Z", "2026-10-02T08:00:00Z")
