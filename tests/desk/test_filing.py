"""Filing from the desk: the API's rules live, a preview that saves nothing, then a draft."""

from typing import Any

from mla.enums import Role
from tests.desk.support import csrf_of, desk_user, sign_in
from tests.factories import STATEMENT, Org, World


async def filing_form(world: World, prosecution: Org, **changes: Any) -> dict[str, Any]:
    case = await world.case(prosecution, offence="Insulting behaviour online", max_penalty_years=2)
    form = {
        "case_id": case["id"],
        "type": "production",
        "target_id": str(await world.counterparty()),
        "instrument": "eu-epoc",
        "data_categories": ["subscriber", "content"],
        "identifier_kind_0": "email",
        "identifier_value_0": "suspect@example.com",
        "period_start": "2026-09-01T00:00",
        "period_end": "2026-10-31T23:59",
        "urgency": "routine",
        "facts": STATEMENT,
        "link_to_offence": STATEMENT,
        "necessity": STATEMENT,
        "proportionality": STATEMENT,
        "language": "en",
    }
    return form | changes


async def signed_in_prosecutor(world: World) -> tuple[Org, str]:
    prosecution, _ = await world.linked_pair()
    prosecutor = await desk_user(world, prosecution, Role.PROSECUTOR)
    await sign_in(world.client, prosecutor.email)
    return prosecution, csrf_of(await world.client.get("/desk/file"))


async def own_requests(world: World, org: Org) -> list[dict[str, Any]]:
    return (await world.client.get("/api/v1/requests", headers=org.headers(Role.PROSECUTOR))).json()["items"]


async def test_the_preview_shows_the_failing_check_and_the_clocks_and_saves_nothing(world: World) -> None:
    prosecution, token = await signed_in_prosecutor(world)

    response = await world.client.post(
        "/desk/file/preview", data=await filing_form(world, prosecution) | {"_csrf": token}
    )

    assert response.status_code == 200
    assert 'class="check outcome-fail"' in response.text and "Epoc offence threshold" in response.text
    assert "Internal review by the central authority: due Mon 9 Nov 2026, 10:00 CET" in response.text
    assert "EPOC response" in response.text
    assert await own_requests(world, prosecution) == []


async def test_input_the_api_refuses_is_refused_here_with_its_reason(world: World) -> None:
    prosecution, token = await signed_in_prosecutor(world)
    form = await filing_form(world, prosecution, identifier_value_0="not-an-e-mail")

    response = await world.client.post(
        "/desk/file/preview", data=form | {"_csrf": token}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 422
    assert "identifiers" in response.text and "email" in response.text


async def test_saving_files_a_draft_and_opens_its_page(world: World) -> None:
    prosecution, token = await signed_in_prosecutor(world)

    response = await world.client.post("/desk/file", data=await filing_form(world, prosecution) | {"_csrf": token})

    [filed] = await own_requests(world, prosecution)
    assert response.status_code == 303 and response.headers["location"] == f"/desk/requests/{filed['id']}"
    assert filed["status"] == "draft" and filed["period_start"] == "2026-08-31T22:00:00Z"


async def test_the_form_offers_only_open_cases_and_filing_into_a_closed_one_is_refused(world: World) -> None:
    prosecution, token = await signed_in_prosecutor(world)
    form = await filing_form(world, prosecution)
    closed = await world.client.post(
        f"/api/v1/cases/{form['case_id']}/close", json={"version": 1}, headers=prosecution.headers()
    )
    assert closed.status_code == 200, closed.text
    still_open = await world.case(prosecution)

    page = await world.client.get("/desk/file")
    response = await world.client.post("/desk/file/preview", data=form | {"_csrf": token})

    assert still_open["id"] in page.text and form["case_id"] not in page.text
    assert response.status_code == 409 and "closed" in response.text
    assert await own_requests(world, prosecution) == []
