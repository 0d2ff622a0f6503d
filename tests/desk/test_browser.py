"""The desk in a real browser: an officer triages, attests, approves and transmits; scoping and stale pages."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from mla.clock import FixedClock
from mla.enums import OrganisationKind, Role
from tests.alerts.support import smtp_sink
from tests.desk.conftest import ClockedDesk, Tab, open_tab, run_worker_burst
from tests.desk.support import PASSWORD, DeskUser, desk_user
from tests.factories import World

# One xdist worker runs them all: one `mla serve` and one Chromium.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]


async def sign_in(tab: Tab, user: DeskUser, path: str) -> None:
    """Open `path` signed out, get the login page, sign in, and land on `path`."""
    page = tab.page
    await page.goto(tab.url(path))
    await expect(page.get_by_role("heading", name="Sign in to the MLA desk")).to_be_visible()
    await page.get_by_label("E-mail").fill(user.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(re.escape(path)))


RED = "rgb(164, 22, 26)"  # --red in desk.css


async def submitted_request(world: World) -> tuple[Any, Any, dict[str, Any]]:
    """A prosecutor files and submits (four eyes: the officer who approves is someone else)."""
    prosecution, authority = await world.linked_pair()
    request = await world.request(prosecution, await world.case(prosecution), await world.counterparty())
    return prosecution, authority, await world.act(prosecution, Role.PROSECUTOR, request, "submit")


async def test_an_officer_assigns_attests_approves_and_transmits_a_new_request(
    tab: Tab, world: World, wall_clock: FixedClock
) -> None:
    _, authority, request = await submitted_request(world)
    officer = await desk_user(world, authority, Role.CENTRAL_AUTHORITY)
    page = tab.page

    await sign_in(tab, officer, "/desk/queue?bucket=new")
    await tab.screenshot("01-queue-new")
    row = page.locator(f"#row-{request['id']}")
    await expect(row).to_contain_text(request["reference"])
    await expect(row).to_contain_text("Under review")
    await expect(row.locator(".due")).to_have_text(re.compile(r"due in \d+ d"))
    await expect(page.locator("#count-mine")).to_have_text("0")

    await row.get_by_role("button", name=f"Assign {request['reference']} to me").click()
    await expect(page.locator("#notice")).to_contain_text(f"{request['reference']} assigned to {officer.name}")
    await expect(page.locator("#count-mine")).to_have_text("1")  # counts refreshed without a reload
    await expect(page.locator(f"#row-{request['id']}")).to_have_count(0)  # assigned: no longer new
    await tab.screenshot("02-queue-after-assigning")

    await page.goto(tab.url("/desk/queue?bucket=mine"))
    await page.get_by_role("link", name=request["reference"]).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(request["reference"])
    await expect(page.locator(".verified")).to_contain_text("Chain verified")
    await tab.screenshot("03-request-under-review")

    pending = page.locator(".check.outcome-needs_attestation")
    for _ in range(await pending.count()):
        check = pending.first
        code = await check.get_attribute("id")
        await check.get_by_label("Passes").check()
        await check.get_by_label("Reason").fill("Checked against the file and the treaty: satisfied.")
        await check.get_by_role("button", name="Record attestation").click()
        await expect(page.locator(f"#{code}")).to_have_class(re.compile("outcome-pass"))
    await expect(pending).to_have_count(0)
    await tab.screenshot("04-request-checks-attested")

    await page.get_by_role("button", name="Approve").click()
    await expect(page.locator(".request-head .status")).to_have_text("Approved")
    await page.get_by_label("Channel reference (optional)").fill("EPOC portal ticket 4711")
    await page.get_by_role("button", name="Transmit").click()
    await expect(page.locator(".request-head .status")).to_have_text("Transmitted")
    await expect(page.locator("section[aria-labelledby=deadlines-title]")).to_contain_text("EPOC")
    await tab.screenshot("05-request-transmitted")

    await page.get_by_role("link", name="Statistics").click()
    await expect(page.get_by_role("img", name=re.compile("By status: Transmitted 1"))).to_be_visible()
    await tab.screenshot("12-statistics")
    await page.get_by_role("link", name="Notifications").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    await tab.screenshot("13-notifications")


async def test_another_organisations_officer_gets_not_found_for_the_same_address(
    tab: Tab, world: World, wall_clock: FixedClock
) -> None:
    _, _, request = await submitted_request(world)
    stranger = await desk_user(
        world, await world.organisation(OrganisationKind.CENTRAL_AUTHORITY), Role.CENTRAL_AUTHORITY
    )
    await sign_in(tab, stranger, "/desk/queue")
    tab.console.expect("status of 404")

    response = await tab.page.goto(tab.url(f"/desk/requests/{request['id']}"))

    assert response is not None and response.status == 404
    await expect(tab.page.get_by_role("heading", level=1)).to_have_text("Not found")
    await expect(tab.page.locator("body")).not_to_contain_text(request["reference"])
    await tab.screenshot("06-foreign-request-not-found")


async def test_an_action_from_a_stale_page_is_refused_with_a_reload_and_keeps_what_was_typed(
    tab: Tab, world: World, wall_clock: FixedClock
) -> None:
    _, authority, request = await submitted_request(world)
    officer = await desk_user(world, authority, Role.CENTRAL_AUTHORITY)
    await sign_in(tab, officer, f"/desk/requests/{request['id']}")
    page = tab.page
    # Meanwhile a colleague assigns it through the API: the page's version is now stale.
    response = await world.client.post(
        f"/api/v1/requests/{request['id']}/assign",
        json={"user_id": str(authority.members[Role.CENTRAL_AUTHORITY].id), "version": request["version"]},
        headers=authority.headers(Role.CENTRAL_AUTHORITY),
    )
    assert response.status_code == 200, response.text
    tab.console.expect("status of 409")

    form = page.locator("form.action", has=page.get_by_role("button", name="Return"))
    await form.get_by_label("Reason").fill("Please add the subscriber's time zone to the period.")
    await form.get_by_role("button", name="Return").click()

    await expect(form.locator(".problem")).to_contain_text("Changed since you opened it")
    await expect(form.get_by_label("Reason")).to_have_value("Please add the subscriber's time zone to the period.")
    await tab.screenshot("07-stale-action-refused")
    await form.get_by_role("link", name="Reload to see what changed").click()
    await expect(page.locator("ol.timeline")).to_contain_text("Assign")
    await expect(page.locator(".request-head .status")).to_have_text("Under review")


async def test_the_api_docs_load_with_no_internet(tab: Tab) -> None:
    outside: list[str] = []

    async def only_this_server(route: Any) -> None:
        if route.request.url.startswith(tab.base):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await tab.page.route("**/*", only_this_server)
    await tab.page.goto(tab.url("/schema"))
    await expect(tab.page.get_by_text("MLA tracker").first).to_be_visible(timeout=20_000)
    await tab.screenshot("08-api-docs-scalar", full_page=False)
    await tab.page.goto(tab.url("/schema/swagger"))
    await expect(tab.page.locator(".swagger-ui .title").first).to_contain_text("MLA tracker", timeout=20_000)
    await tab.screenshot("09-api-docs-swagger", full_page=False)
    assert outside == []


async def test_a_prosecutor_sees_a_check_fail_before_saving_and_files_a_draft(
    tab: Tab, world: World, wall_clock: FixedClock
) -> None:
    prosecution, _ = await world.linked_pair()
    # Not a listed offence, and below the 3 years EPOC needs for content (Reg. 2023/1543 art 5(4)).
    case = await world.case(prosecution, offence="Insulting behaviour online", max_penalty_years=2)
    target = await world.counterparty()
    prosecutor = await desk_user(world, prosecution, Role.PROSECUTOR)
    page = tab.page
    await sign_in(tab, prosecutor, "/desk/file")

    await page.get_by_label("Case").select_option(case["id"])
    await page.get_by_label("Type of request").select_option("production")
    await page.get_by_label("Sent to").select_option(str(target))
    await page.get_by_label("Legal basis").select_option("eu-epoc")
    await page.get_by_label("Content").check()
    await page.get_by_label("Identifier 1: value").fill("suspect@example.com")
    await page.get_by_label("Issuing or validating judge or court").fill("Amtsgericht Tiergarten, investigating judge")
    await page.get_by_label("Order reference").fill("AG-TG 351 Gs 1234/26")
    for label in ("Facts", "Link between the data and the offence", "Necessity", "Proportionality"):
        await page.get_by_label(label, exact=True).fill("The account sent the ransom demands to the hospital.")
    await page.get_by_label("Period from").fill("2026-09-01T00:00")
    await page.get_by_label("Period to").fill("2026-10-31T23:59")
    preview = page.locator("#preview")
    await expect(preview.locator(".check.outcome-fail", has_text="Epoc offence threshold")).to_be_visible()
    await expect(preview.locator(".check.outcome-fail")).to_have_count(1)
    await expect(preview).to_contain_text("If transmitted now")
    await tab.screenshot("10-file-a-request-check-fails")

    await page.get_by_role("button", name="Save the draft").click()
    await expect(page.locator(".request-head .status")).to_have_text("Draft")
    await expect(page.get_by_role("button", name="Submit")).to_be_visible()
    await tab.screenshot("11-filed-draft")


async def test_after_the_worker_runs_with_a_later_clock_the_request_is_overdue_in_red_and_a_notification_arrives(
    browser: Any, clocked_desk: ClockedDesk, clock: FixedClock, tmp_path: Path
) -> None:
    world = clocked_desk.outbox.world
    _, authority, request = await submitted_request(world)  # review due in 5 business days: Mon 9 Nov, 09:00 UTC
    officer = await desk_user(world, authority, Role.CENTRAL_AUTHORITY)
    async with open_tab(browser, clocked_desk.base) as tab:
        page = tab.page
        await sign_in(tab, officer, "/desk/queue")
        row = page.locator(f"#row-{request['id']}")
        await expect(row.locator(".due")).to_have_text(re.compile(r"due in 7 d"))
        await expect(page.locator("#count-overdue")).to_have_text("0")
        await expect(page.locator("#unread")).to_have_text("")

        clock.advance(timedelta(days=8))  # Tue 10 Nov, 09:00 UTC: a day past due
        with smtp_sink() as smtp:
            await run_worker_burst(clocked_desk.outbox.settings, clock.now(), smtp.port, tmp_path)
        await sign_in(tab, officer, "/desk/queue?bucket=overdue")  # the next working day: yesterday's session ended

        overdue = page.locator(f"#row-{request['id']} .overdue")
        await expect(overdue).to_have_text("overdue by 1 d")
        assert await overdue.evaluate("element => getComputedStyle(element).color") == RED
        await expect(page.locator("#count-overdue")).to_have_text("1")
        await expect(page.locator("#unread")).to_have_text(re.compile(r"^[1-9]\d* unread$"))
        await tab.screenshot("14-queue-overdue-after-the-worker")
        await page.get_by_role("link", name=re.compile("Notifications")).click()
        await expect(page.locator("main")).to_contain_text(request["reference"])
        await tab.screenshot("15-notifications-after-the-worker")
