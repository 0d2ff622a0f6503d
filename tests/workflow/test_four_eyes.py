"""Four eyes (issue 9 §6): whoever created or submitted a request neither attests its checks nor approves it.

The author may hold any roles: a prosecutor who is also a central-authority officer in a central
authority that files its own requests once filed, submitted, attested, approved and transmitted
their own request. Each refusal is a 403 problem naming the rule and changes nothing; another
officer of the same authority then attests and approves.
"""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mla.checks.rules import RequestSnapshot, Verdict, attestation_required, check, unregister
from mla.enums import CounterpartyKind, OrganisationKind, Role
from tests.factories import Member, World, request_body, unique

P, CA, SUP = Role.PROSECUTOR, Role.CENTRAL_AUTHORITY, Role.SUPERVISOR
WARNING_CHECK = "test_four_eyes_warning"


def url(request: dict[str, Any], tail: str) -> str:
    return f"/api/v1/requests/{request['id']}/{tail}"


async def file_request(world: World, member: Member, **overrides: Any) -> dict[str, Any]:
    """A case and a draft (or received) request, both filed by `member`."""
    case_body = {
        "reference": unique("CASE"),
        "title": "Fraud",
        "offences": [{"description": "Fraud", "max_penalty_years": 5}],
    }
    case = await world.client.post("/api/v1/cases", json=case_body, headers=member.headers)
    assert case.status_code == 201, case.text
    body = request_body(case.json()["id"], await world.counterparty(), world.clock.now(), **overrides)
    response = await world.client.post("/api/v1/requests", json=body, headers=member.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def act(world: World, member: Member, request: dict[str, Any], action: str, **fields: Any) -> httpx.Response:
    body = {"version": request["version"], **fields}
    return await world.client.post(url(request, f"actions/{action}"), json=body, headers=member.headers)


async def acted(world: World, member: Member, request: dict[str, Any], action: str, **fields: Any) -> dict[str, Any]:
    response = await act(world, member, request, action, **fields)
    assert response.status_code == 200, response.text
    return response.json()


async def attest(world: World, member: Member, request: dict[str, Any], code: str) -> httpx.Response:
    body = {"outcome": "pass", "reason": f"Checked the file: {code} is satisfied."}
    return await world.client.post(url(request, f"checks/{code}/attestation"), json=body, headers=member.headers)


async def pending_attestations(world: World, member: Member, request: dict[str, Any]) -> list[str]:
    checks = (await world.client.get(url(request, "checks"), headers=member.headers)).json()["items"]
    return [c["code"] for c in checks if c["outcome"] == "needs_attestation"]


async def offered(world: World, member: Member, request: dict[str, Any]) -> set[str]:
    response = await world.client.get(url(request, "actions"), headers=member.headers)
    assert response.status_code == 200, response.text
    return {a["action"] for a in response.json()["items"]}


async def decisions(world: World, member: Member, request: dict[str, Any]) -> list[str]:
    """The trail's workflow and attestation events (reads left out)."""
    trail = (await world.client.get(url(request, "audit"), headers=member.headers)).json()["items"]
    return [e["action"] for e in trail if not e["action"].startswith("read")]


def assert_four_eyes_refusal(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/four-eyes")
    assert "Four eyes" in problem["title"] and "created or submitted" in problem["detail"]


async def assert_author_can_neither_attest_nor_approve(world: World, author: Member, request: dict[str, Any]) -> None:
    before = await decisions(world, author, request)
    codes = await pending_attestations(world, author, request)
    assert codes, "the request should wait for an attestation"

    assert "approve" not in await offered(world, author, request)
    assert_four_eyes_refusal(await attest(world, author, request, codes[0]))
    assert_four_eyes_refusal(await act(world, author, request, "approve"))
    assert await decisions(world, author, request) == before


async def approved_by(world: World, officer: Member, request: dict[str, Any]) -> dict[str, Any]:
    for code in await pending_attestations(world, officer, request):
        assert (await attest(world, officer, request, code)).status_code == 201
    assert "approve" in await offered(world, officer, request)
    return await acted(world, officer, request, "approve")


@pytest.mark.parametrize(
    "author_roles",
    [
        pytest.param((P, CA), id="prosecutor and central authority officer"),
        pytest.param((P, SUP), id="prosecutor and supervisor"),
        pytest.param((P, CA, SUP), id="prosecutor, officer and supervisor"),
        pytest.param((SUP, CA), id="supervisor and officer who filed it"),
        pytest.param((CA,), id="officer who filed it"),
    ],
)
async def test_in_an_authority_filing_its_own_requests_the_author_neither_attests_nor_approves(
    world: World, author_roles: tuple[Role, ...]
) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    author = await world.member(authority, *author_roles)
    request = await file_request(world, author)
    submitter = author if P in author_roles else authority.members[P]
    request = await acted(world, submitter, request, "submit")

    await assert_author_can_neither_attest_nor_approve(world, author, request)

    second_officer = authority.members[CA]
    request = await approved_by(world, second_officer, request)
    assert request["status"] == "approved"


async def test_creator_and_submitter_are_both_refused_and_a_third_officer_approves(world: World) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    creator = await world.member(authority, CA)
    submitter = await world.member(authority, P, CA)
    request = await file_request(world, creator)
    request = await acted(world, submitter, request, "submit")

    await assert_author_can_neither_attest_nor_approve(world, creator, request)
    await assert_author_can_neither_attest_nor_approve(world, submitter, request)

    request = await approved_by(world, authority.members[SUP], request)
    assert request["status"] == "approved"


async def test_who_submitted_an_earlier_round_stays_an_author_after_a_return(world: World) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    first = await world.member(authority, P, CA)
    request = await file_request(world, authority.members[P])
    request = await acted(world, first, request, "submit")
    request = await acted(world, authority.members[CA], request, "return", reason="Narrow the period.")
    request = await acted(world, authority.members[P], request, "submit")

    await assert_author_can_neither_attest_nor_approve(world, first, request)


async def test_the_author_may_still_transmit_once_another_officer_approved(world: World) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    author = await world.member(authority, P, CA)
    request = await acted(world, author, await file_request(world, author), "submit")
    request = await approved_by(world, authority.members[CA], request)

    request = await acted(world, author, request, "transmit")

    assert request["status"] == "transmitted"


async def test_a_prosecution_services_request_is_approved_by_its_authority_as_before(world: World) -> None:
    prosecution, authority = await world.linked_pair()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    request = await world.act(prosecution, P, request, "submit")

    request = await approved_by(world, authority.members[CA], request)

    assert request["status"] == "approved"


@pytest.fixture
def warning_attestation() -> Iterator[str]:
    """A warning-severity check that always waits for an officer's judgement."""

    @check(code=WARNING_CHECK, severity="warning", attestable=True)
    def judgement(snapshot: RequestSnapshot, settings: object) -> Verdict:
        return attestation_required("an officer confirms the translation was reviewed")

    yield WARNING_CHECK
    unregister(WARNING_CHECK)


async def test_four_eyes_covers_warning_checks_too(world: World, warning_attestation: str) -> None:
    """A missing attestation of a warning check blocks approval as well, so its author may not attest it."""
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    author = await world.member(authority, P, CA)
    request = await acted(world, author, await file_request(world, author), "submit")

    assert_four_eyes_refusal(await attest(world, author, request, warning_attestation))
    assert (await attest(world, authority.members[CA], request, warning_attestation)).status_code == 201


async def test_the_officer_who_recorded_an_incoming_request_does_not_attest_its_checks(
    world: World, warning_attestation: str
) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    recorder = authority.members[CA]
    state = await world.counterparty(kind=CounterpartyKind.STATE)
    case = await world.case(authority, role=CA)
    request = await world.request(authority, case, state, direction="incoming", type="mla", instrument="mlat")

    assert_four_eyes_refusal(await attest(world, recorder, request, warning_attestation))
    assert (await attest(world, authority.members[SUP], request, warning_attestation)).status_code == 201
