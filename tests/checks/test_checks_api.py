"""Legality checks gate approval, and the approval's audit event records them and who attested."""

from typing import Any

from mla.enums import OrganisationKind, Role
from tests.factories import Org, World


async def submitted_epoc(world: World, max_penalty_years: float) -> tuple[Org, Org, dict[str, Any]]:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    prosecution = await world.organisation(central_authority=authority)
    case = await world.case(prosecution, max_penalty_years=max_penalty_years, offence="Fraud by false representation")
    request = await world.request(prosecution, case, await world.counterparty(), data_categories=["content"])
    response = await world.client.post(
        f"/api/v1/requests/{request['id']}/actions/submit", json={"version": 1}, headers=prosecution.headers()
    )
    assert response.status_code == 200, response.text
    return prosecution, authority, response.json()


async def approve(world: World, authority: Org, request: dict[str, Any]) -> Any:
    return await world.client.post(
        f"/api/v1/requests/{request['id']}/actions/approve",
        json={"version": request["version"]},
        headers=authority.headers(Role.CENTRAL_AUTHORITY),
    )


def outcomes(checks: list[dict[str, Any]]) -> dict[str, str]:
    return {check["code"]: check["outcome"] for check in checks}


async def test_content_epoc_for_a_two_year_offence_cannot_be_approved_and_says_why(world: World) -> None:
    _, authority, request = await submitted_epoc(world, max_penalty_years=2)
    await world.attest_pending(authority, request)

    response = await approve(world, authority, request)

    assert response.status_code == 409
    problem = response.json()
    assert [c["code"] for c in problem["failing_checks"]] == ["epoc_offence_threshold"]
    assert "epoc_offence_threshold" in problem["detail"]
    assert "3 years" in problem["failing_checks"][0]["explanation"]


async def test_five_year_offence_is_approved_once_the_unverified_treaty_data_is_confirmed(world: World) -> None:
    prosecution, authority, request = await submitted_epoc(world, max_penalty_years=5)

    before = await approve(world, authority, request)
    checks = await world.attest_pending(authority, request)
    after = await approve(world, authority, request)

    assert before.status_code == 409
    assert "instrument_in_force" in {c["code"] for c in before.json()["failing_checks"]}
    assert outcomes(checks)["instrument_in_force"] == "pass"
    assert after.status_code == 200 and after.json()["status"] == "approved"
    trail = (await world.client.get(f"/api/v1/requests/{request['id']}/audit", headers=prosecution.headers())).json()
    approval = next(event for event in trail["items"] if event["action"] == "approve")
    recorded = {check["code"]: check for check in approval["checks"]}
    officer = authority.members[Role.CENTRAL_AUTHORITY]
    assert recorded["instrument_in_force"]["attested_by"] == officer.email
    assert recorded["epoc_offence_threshold"]["outcome"] == "pass"
    assert approval["actor_id"] == str(officer.id)
    attestations = [event for event in trail["items"] if event["action"] == "attest"]
    assert {event["changes"]["check"] for event in attestations} >= {"instrument_in_force", "privileged_persons"}


async def test_an_edit_to_what_was_judged_invalidates_the_attestation(world: World) -> None:
    prosecution, authority, request = await submitted_epoc(world, max_penalty_years=5)
    await world.attest_pending(authority, request)
    returned = await world.client.post(
        f"/api/v1/requests/{request['id']}/actions/return",
        json={"version": request["version"], "reason": "Narrow the identifiers."},
        headers=authority.headers(Role.CENTRAL_AUTHORITY),
    )
    edited = await world.client.patch(
        f"/api/v1/requests/{request['id']}",
        json={"version": returned.json()["version"], "identifiers": [{"kind": "ip", "value": "192.0.2.7"}]},
        headers=prosecution.headers(),
    )
    assert edited.status_code == 200

    checks = (await world.client.get(f"/api/v1/requests/{request['id']}/checks", headers=prosecution.headers())).json()

    assert outcomes(checks["items"])["privileged_persons"] == "needs_attestation"
    assert outcomes(checks["items"])["instrument_in_force"] == "pass"  # it judged the instrument and target only


async def test_only_the_responsible_authority_attests_and_only_attestable_checks(world: World) -> None:
    prosecution, authority, request = await submitted_epoc(world, max_penalty_years=5)
    other_authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    base = f"/api/v1/requests/{request['id']}/checks"
    body = {"outcome": "pass", "reason": "A judge signed the order on 3 November."}

    by_prosecutor = await world.client.post(
        f"{base}/instrument_in_force/attestation", json=body, headers=prosecution.headers()
    )
    by_stranger = await world.client.post(
        f"{base}/instrument_in_force/attestation", json=body, headers=other_authority.headers(Role.CENTRAL_AUTHORITY)
    )
    automatic = await world.client.post(
        f"{base}/epoc_offence_threshold/attestation", json=body, headers=authority.headers(Role.CENTRAL_AUTHORITY)
    )
    no_reason = await world.client.post(
        f"{base}/instrument_in_force/attestation",
        json={"outcome": "pass"},
        headers=authority.headers(Role.CENTRAL_AUTHORITY),
    )

    assert (by_prosecutor.status_code, by_stranger.status_code, automatic.status_code) == (403, 404, 404)
    assert no_reason.status_code == 422


async def test_a_failed_attestation_keeps_blocking(world: World) -> None:
    _, authority, request = await submitted_epoc(world, max_penalty_years=5)
    await world.attest_pending(authority, request, outcome="fail")

    response = await approve(world, authority, request)

    assert response.status_code == 409
    assert {c["code"]: c["outcome"] for c in response.json()["failing_checks"]}["instrument_in_force"] == "fail"


async def test_a_content_epoc_without_the_judges_order_cannot_be_approved(world: World) -> None:
    prosecution, authority = await world.linked_pair()
    draft = await world.request(
        prosecution,
        await world.case(prosecution),
        await world.counterparty(),
        issuing_judge_or_court=None,
        order_reference=None,
    )
    request = await world.act(prosecution, Role.PROSECUTOR, draft, "submit")
    await world.attest_pending(authority, request)

    response = await approve(world, authority, request)

    assert response.status_code == 409
    [failing] = response.json()["failing_checks"]
    assert failing["code"] == "issuer_competence" and "art 4(2)" in failing["explanation"]


async def test_a_prosecutors_preservation_order_for_traffic_data_is_approved_without_a_judge(world: World) -> None:
    """The most urgent path takes no extra step: Reg. 2023/1543 art 4(3)."""
    preservation = {
        "type": "preservation",
        "instrument": "eu-epoc-pr",
        "data_categories": ["traffic", "content"],
        "issuing_judge_or_court": None,
        "order_reference": None,
    }

    _, _, request = await world.transmitted(**preservation)

    assert request["status"] == "transmitted"
