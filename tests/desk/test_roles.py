"""Who the desk serves: the API's role rules, page by page (four eyes, organisation and platform admins)."""

import re
from typing import Any

from litestar import Litestar

from mla.enums import OrganisationKind, Role
from tests.desk.support import PASSWORD, DeskUser, csrf_of, desk_user, sign_in
from tests.factories import World, request_body, unique

SIGNING_IN_AND_OUT = {"/desk/login", "/desk/logout"}
PATH_VALUES = {"action": "approve", "code": "privileged_persons"}


def desk_addresses(app: Litestar) -> list[tuple[str, str]]:
    """Every desk page and form (method, path template) but the static files: new pages are checked too."""
    return sorted(
        (method, route.path)
        for route in app.routes
        if route.path.startswith("/desk") and not route.path.startswith("/desk/static")
        for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}
    )


def filled(template: str, request_id: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda part: PATH_VALUES.get(part.group(1), request_id), template)


async def bearer_of(world: World, user: DeskUser) -> dict[str, str]:
    token = await world.client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def test_a_platform_admin_signs_in_and_out_of_the_desk_and_reaches_nothing_else(
    app: Litestar, world: World
) -> None:
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    admin = await desk_user(world, org, Role.PLATFORM_ADMIN)
    await sign_in(world.client, admin.email)
    home = await world.client.get("/desk/")
    assert home.status_code == 403 and "Not for your role" in home.text and "no case data" in home.text

    answers = {}
    for method, template in desk_addresses(app):
        if template in SIGNING_IN_AND_OUT or template == "/":
            continue
        response = await world.client.request(method, filled(template, request["id"]), data={"_csrf": csrf_of(home)})
        answers[(method, template)] = response.status_code
        assert request["reference"] not in response.text
    assert len(answers) >= 12 and set(answers.values()) == {403}, answers

    signed_out = await world.client.post("/desk/logout", data={"_csrf": csrf_of(home)})
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/desk/login?signed_out=1"


async def test_an_organisation_admin_reads_a_request_but_is_offered_no_handling(world: World) -> None:
    prosecution, _ = await world.linked_pair()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    admin = await desk_user(world, prosecution, Role.ADMIN)
    await sign_in(world.client, admin.email)

    page = await world.client.get(f"/desk/requests/{request['id']}")

    assert page.status_code == 200 and request["reference"] in page.text
    assert not re.search(r"/actions/|/attestation\"|/assign\"", page.text)
    assert "No workflow action is open to you" in page.text
    assert (await world.client.get("/desk/queue")).status_code == 403
    assert (await world.client.get("/desk/file")).status_code == 403
    assert 'href="/desk/file"' not in page.text and 'href="/desk/queue"' not in page.text


async def test_the_author_is_offered_neither_attestation_nor_approval_and_another_officer_is(world: World) -> None:
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    author = await desk_user(world, authority, Role.CENTRAL_AUTHORITY, Role.PROSECUTOR)
    colleague = await desk_user(world, authority, Role.CENTRAL_AUTHORITY)
    request = await filed_and_submitted_by(world, author)

    await sign_in(world.client, author.email)
    own = await world.client.get(f"/desk/requests/{request['id']}")
    world.client.cookies.clear()
    await sign_in(world.client, colleague.email)
    other = await world.client.get(f"/desk/requests/{request['id']}")

    assert "Four eyes: you filed or submitted this request" in own.text
    assert "/attestation" not in own.text and "/actions/approve" not in own.text
    assert "Four eyes" not in other.text
    assert "/attestation" in other.text and "/actions/approve" in other.text


async def filed_and_submitted_by(world: World, author: DeskUser) -> dict[str, Any]:
    """A central authority's own outgoing request, filed and submitted by `author` through the API."""
    headers = await bearer_of(world, author)
    case_body = {
        "reference": unique("CASE"),
        "title": "Fraud",
        "offences": [{"description": "Fraud", "max_penalty_years": 5}],
    }
    case = (await world.client.post("/api/v1/cases", json=case_body, headers=headers)).json()
    body = request_body(case["id"], await world.counterparty(), world.clock.now())
    draft = (await world.client.post("/api/v1/requests", json=body, headers=headers)).json()
    submitted = await world.client.post(
        f"/api/v1/requests/{draft['id']}/actions/submit", json={"version": draft["version"]}, headers=headers
    )
    assert submitted.status_code == 200, submitted.text
    return submitted.json()


async def test_a_prosecution_service_executing_an_incoming_request_sees_its_page_without_the_authoritys_case_file(
    world: World,
) -> None:
    authority, request = await world.accepted()
    service = await world.organisation()
    request = await world.act(authority, Role.CENTRAL_AUTHORITY, request, "hand_over", organisation_id=str(service.id))
    prosecutor = await desk_user(world, service, Role.PROSECUTOR)
    await sign_in(world.client, prosecutor.email)

    page = await world.client.get(f"/desk/requests/{request['id']}")

    assert page.status_code == 200 and request["reference"] in page.text
    assert "The case file is not shared with your organisation." in page.text
    assert set(re.findall(r'/desk/requests/[^/]+/actions/([a-z_]+)"', page.text)) == {"execute"}
