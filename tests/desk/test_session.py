"""Signing in to the desk: the API's login, a cookie the page's scripts cannot read, CSRF on every form."""

from datetime import timedelta

import httpx
from litestar import Litestar

from mla.clock import FixedClock
from mla.enums import Role
from mla.settings import Settings
from tests.desk.support import csrf_of, desk_user, sign_in
from tests.factories import World
from tests.users.test_login_limits import unique_address


async def test_signing_in_sets_an_httponly_strict_session_cookie_for_the_desk_only(world: World) -> None:
    officer = await desk_user(world, await world.organisation(), Role.PROSECUTOR)

    response = await sign_in(world.client, officer.email)

    assert response.status_code == 303 and response.headers["location"] == "/desk/"
    cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("mla_desk_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/desk" in cookie
    assert "Secure" not in cookie  # served over plain http here (see the https test)


async def test_over_https_the_session_cookie_is_secure(app: Litestar, world: World) -> None:
    officer = await desk_user(world, await world.organisation(), Role.PROSECUTOR)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://mla.test") as client:
        response = await sign_in(client, officer.email)

    cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("mla_desk_session="))
    assert "Secure" in cookie


async def test_a_wrong_password_is_refused_like_the_api_and_opens_no_session(world: World) -> None:
    officer = await desk_user(world, await world.organisation(), Role.PROSECUTOR)

    response = await sign_in(world.client, officer.email, password="not the password")

    assert response.status_code == 401
    assert "Wrong e-mail or password." in response.text
    assert "mla_desk_session" not in world.client.cookies
    assert (await world.client.get("/desk/requests")).status_code == 303


async def test_a_page_without_a_session_leads_to_the_login_and_back(world: World) -> None:
    response = await world.client.get("/desk/queue?bucket=new")

    assert response.status_code == 303
    assert response.headers["location"] == "/desk/login?next=%2Fdesk%2Fqueue%3Fbucket%3Dnew"


async def test_the_session_ends_after_the_desk_session_minutes(
    world: World, clock: FixedClock, settings: Settings
) -> None:
    officer = await desk_user(world, await world.organisation(), Role.PROSECUTOR)
    await sign_in(world.client, officer.email)
    assert (await world.client.get("/desk/requests")).status_code == 200

    clock.advance(timedelta(minutes=settings.desk_session_minutes, seconds=1))
    response = await world.client.get("/desk/requests")

    assert response.status_code == 303 and "ended=1" in response.headers["location"]


async def test_signing_out_forgets_the_session(world: World) -> None:
    officer = await desk_user(world, await world.organisation(), Role.PROSECUTOR)
    await sign_in(world.client, officer.email)
    page = await world.client.get("/desk/requests")

    response = await world.client.post("/desk/logout", data={"_csrf": csrf_of(page)})

    assert response.status_code == 303 and response.headers["location"] == "/desk/login?signed_out=1"
    assert (await world.client.get("/desk/requests")).status_code == 303


async def test_a_login_form_without_its_token_is_refused(world: World) -> None:
    officer = await desk_user(world, await world.organisation(), Role.PROSECUTOR)

    response = await world.client.post("/desk/login", data={"email": officer.email, "password": "x"})

    assert response.status_code == 403
    assert "mla_desk_session" not in world.client.cookies


async def test_a_write_without_the_pages_token_is_refused_and_changes_nothing(world: World) -> None:
    prosecution, authority = await world.linked_pair()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    request = await world.act(prosecution, Role.PROSECUTOR, request, "submit")
    officer = await desk_user(world, authority, Role.CENTRAL_AUTHORITY)
    await sign_in(world.client, officer.email)
    form = {"user_id": "me", "version": str(request["version"])}

    missing = await world.client.post(f"/desk/requests/{request['id']}/assign", data=form)
    forged = await world.client.post(f"/desk/requests/{request['id']}/assign", data=form | {"_csrf": "0" * 64})
    forged_header = await world.client.post(
        f"/desk/requests/{request['id']}/assign", data=form, headers={"X-CSRF-Token": "0" * 64, "HX-Request": "true"}
    )

    assert [missing.status_code, forged.status_code, forged_header.status_code] == [403, 403, 403]
    assert "nothing was changed" in forged_header.text
    after = await world.client.get(
        f"/api/v1/requests/{request['id']}", headers=authority.headers(Role.CENTRAL_AUTHORITY)
    )
    assert after.json()["assignee_id"] is None and after.json()["version"] == request["version"]


async def test_the_desk_cookie_does_not_authenticate_the_api(world: World) -> None:
    officer = await desk_user(world, await world.organisation(), Role.PROSECUTOR)
    await sign_in(world.client, officer.email)
    session = world.client.cookies["mla_desk_session"]

    response = await world.client.get("/api/v1/cases", headers={"Cookie": f"mla_desk_session={session}"})

    assert response.status_code == 401


async def test_a_bearer_token_does_not_open_desk_pages(world: World) -> None:
    org = await world.organisation()

    response = await world.client.get("/desk/requests", headers=org.headers(Role.PROSECUTOR))

    assert response.status_code == 303 and response.headers["location"].startswith("/desk/login")


async def test_when_a_session_ends_during_an_htmx_update_the_login_returns_to_the_page_shown(
    world: World, clock: FixedClock, settings: Settings
) -> None:
    officer = await desk_user(world, await world.organisation(), Role.PROSECUTOR)
    await sign_in(world.client, officer.email)
    clock.advance(timedelta(minutes=settings.desk_session_minutes, seconds=1))

    poll = await world.client.get(
        "/desk/notifications/unread",
        headers={"HX-Request": "true", "HX-Current-URL": "http://mla.test/desk/requests?status=draft"},
    )

    assert poll.headers["HX-Redirect"] == "/desk/login?next=%2Fdesk%2Frequests%3Fstatus%3Ddraft&ended=1"


async def test_after_repeated_wrong_passwords_the_login_page_answers_429_even_to_the_right_one(
    app: Litestar, world: World, settings: Settings
) -> None:
    officer = await desk_user(world, await world.organisation(), Role.PROSECUTOR)
    transport = httpx.ASGITransport(app=app, client=(unique_address(), 40000))  # this test's failures only
    async with httpx.AsyncClient(transport=transport, base_url="http://mla.test") as client:
        for _ in range(settings.login_failures_per_account):
            assert (await sign_in(client, officer.email, password="not the password")).status_code == 401

        response = await sign_in(client, officer.email)

    assert response.status_code == 429
    assert f"try again in {response.headers['retry-after']} seconds" in response.text
    assert "Too many failed sign-ins" in response.text and "mla_desk_session" not in client.cookies


async def test_signing_out_revokes_the_session_so_a_copied_cookie_no_longer_works(app: Litestar, world: World) -> None:
    officer = await desk_user(world, await world.organisation(), Role.PROSECUTOR)
    await sign_in(world.client, officer.email)
    copied = world.client.cookies["mla_desk_session"]
    page = await world.client.get("/desk/requests")

    await world.client.post("/desk/logout", data={"_csrf": csrf_of(page)})

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mla.test") as thief:
        thief.cookies.set("mla_desk_session", copied, path="/desk")
        response = await thief.get("/desk/requests")
    assert response.status_code == 303 and "ended=1" in response.headers["location"]
