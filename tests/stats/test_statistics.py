"""`GET /stats` and its CSV: counts, turnaround with paused time excluded, overdue rate, lapses, scope.

The module's world, on a timeline of days after T0 (the authority's prosecution service files R1–R6,
the authority records the incoming I1):

| request | to | instrument | what happens (day) | first response | fulfilment |
|---|---|---|---|---|---|
| R1 | X | eu-epoc | transmit 0, acknowledge 2, fulfil 10 | 2 | 10 |
| R3 | X | eu-epoc | transmit 0, acknowledge 4, fulfil 6 | 4 | 6 |
| R4 | X | eu-epoc | transmit 0, refuse 1 | 1 | — |
| R2 | Z | eu-epoc | transmit 0, request_clarification 1, provide_clarification 4, fulfil 8 | 1 | 8 − 3 paused = 5 |
| R5 | W | eu-epoc-pr | transmit 0, confirm_preserved 1, lapses (scan on day 64) | 1 | — |
| R6 | X | eu-epoc | filed on day 3 (urgent), stays a draft | — | — |
| I1 | S | mlat, incoming | accept 1, request_more_info 2, provide_clarification 3, accept 3, execute 5 | — | 3 |

I1 is fulfilled 4 days after acceptance, less 1 day paused. Another organisation files RB to X
(acknowledge 1, fulfil 2); a third has nothing.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.alerts.scan import scan_due_alerts
from mla.clock import FixedClock
from mla.enums import CounterpartyKind, OrganisationKind, Role
from tests.conftest import START_OF_TESTS
from tests.factories import BILATERAL, Org, World
from tests.stats.support import act, get_stats, named_counterparty, parse_csv, transmit

T0 = START_OF_TESTS
FORMULA_NAME = '=HYPERLINK("http://evil.example","Z")'


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class StatsWorld:
    authority: Org
    prosecution: Org
    other: Org
    empty: Org
    x: str
    z: str
    w: str
    s: str


@pytest.fixture(scope="module")
async def built(
    app: Litestar, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> AsyncIterator[StatsWorld]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mla.test") as client:
        world = World(client, sessionmaker, clock)
        yield await build_world(world, clock)


async def build_world(world: World, clock: FixedClock) -> StatsWorld:
    clock.set(T0)
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    prosecution = await world.organisation(central_authority=authority)
    other_authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    other = await world.organisation(central_authority=other_authority)
    empty = await world.organisation()
    x = await world.counterparty()
    z = await named_counterparty(world, FORMULA_NAME)
    w = await world.counterparty()
    s = await world.counterparty(CounterpartyKind.STATE)
    case = await world.case(prosecution)

    r1 = await transmit(world, prosecution, authority, await world.request(prosecution, case, x))
    r3 = await transmit(world, prosecution, authority, await world.request(prosecution, case, x))
    r4 = await transmit(world, prosecution, authority, await world.request(prosecution, case, x))
    r2 = await transmit(world, prosecution, authority, await world.request(prosecution, case, z))
    preservation = {"type": "preservation", "instrument": "eu-epoc-pr"}
    r5 = await transmit(world, prosecution, authority, await world.request(prosecution, case, w, **preservation))
    incoming = {"direction": "incoming", "type": "mla", "instrument": "mlat", "treaty_reference": BILATERAL}
    recorder = await world.member(authority, Role.CENTRAL_AUTHORITY)  # four eyes: another officer attests
    authority_case = await world.case(authority, role=Role.CENTRAL_AUTHORITY)
    i1 = await world.request(authority, authority_case, s, filer=recorder, **incoming)
    await world.attest_pending(authority, i1)  # accept is gated by the checks
    rb = await transmit(world, other, other_authority, await world.request(other, await world.case(other), x))

    async def at(n: float, org: Org, role: Role, request: dict[str, Any], action: str, **fields: Any) -> dict[str, Any]:
        clock.set(day(n))
        return await act(world, org, role, request, action, **fields)

    p, ca = Role.PROSECUTOR, Role.CENTRAL_AUTHORITY
    await at(1, prosecution, p, r4, "refuse", grounds="The provider holds no data for this account.")
    r2 = await at(1, prosecution, p, r2, "request_clarification")
    await at(1, prosecution, p, r5, "confirm_preserved")
    i1 = await at(1, authority, ca, i1, "accept")
    rb = await at(1, other, p, rb, "acknowledge")
    r1 = await at(2, prosecution, p, r1, "acknowledge")
    i1 = await at(2, authority, ca, i1, "request_more_info", reason="Which accounts exactly?")
    await at(2, other, p, rb, "fulfil")
    i1 = await at(3, authority, ca, i1, "provide_clarification")
    i1 = await at(3, authority, ca, i1, "accept")
    await world.request(prosecution, case, x, urgency="urgent")  # R6, filed on day 3
    r3 = await at(4, prosecution, p, r3, "acknowledge")
    r2 = await at(4, prosecution, p, r2, "provide_clarification")
    await at(5, authority, ca, i1, "execute")
    await at(6, prosecution, p, r3, "fulfil")
    await at(8, prosecution, p, r2, "fulfil")
    await at(10, prosecution, p, r1, "fulfil")

    # R5's 60 days from receipt (day 0, Mon 2 Nov 2026) end on Fri 1 Jan 2027, a US holiday, so Mon 4 Jan
    # 23:59:59 New York time (Reg. 2023/1543 art 11(1), Reg. 1182/71 art 3(4)): day 64, the worker lapses it.
    clock.set(day(64))
    async with world.sessionmaker() as session, session.begin():
        await scan_due_alerts(session, clock)

    return StatsWorld(authority, prosecution, other, empty, str(x), str(z), str(w), str(s))


def row(rows: list[dict[str, Any]], direction: str, **match: str) -> dict[str, Any]:
    [found] = [r for r in rows if r["direction"] == direction and all(r[k] == v for k, v in match.items())]
    return found


def figures(turnaround: dict[str, Any]) -> tuple[int, float | None, float | None]:
    return turnaround["requests"], turnaround["median_days"], turnaround["p90_days"]


async def test_counts_split_the_requests_by_status_type_direction_urgency_and_counterparty(
    built: StatsWorld, client: httpx.AsyncClient
) -> None:
    stats = await get_stats(client, built.authority, Role.CENTRAL_AUTHORITY)

    assert stats["requests"] == 7
    assert {k: v for k, v in stats["by_status"].items() if v} == {
        "fulfilled": 4,
        "refused": 1,
        "expired": 1,
        "draft": 1,
    }
    assert stats["by_status"]["transmitted"] == 0  # every status is listed
    assert {k: v for k, v in stats["by_type"].items() if v} == {"production": 5, "preservation": 1, "mla": 1}
    assert stats["by_direction"] == {"outgoing": 6, "incoming": 1}
    assert stats["by_urgency"] == {"routine": 6, "urgent": 1, "emergency": 0}
    assert {c["id"]: c["requests"] for c in stats["by_counterparty"]} == {
        built.x: 4,
        built.z: 1,
        built.w: 1,
        built.s: 1,
    }
    assert stats["by_counterparty"][0]["id"] == built.x  # most requests first
    assert row_named(stats["by_counterparty"], built.z).startswith(FORMULA_NAME)
    assert stats["preservations_lapsed"] == 1


def row_named(counts: list[dict[str, Any]], counterparty_id: str) -> str:
    return next(c["name"] for c in counts if c["id"] == counterparty_id)


async def test_turnaround_per_counterparty_has_exact_medians_and_90th_percentiles(
    built: StatsWorld, client: httpx.AsyncClient
) -> None:
    stats = await get_stats(client, built.authority, Role.CENTRAL_AUTHORITY)
    rows = stats["turnaround_by_counterparty"]

    x = row(rows, "outgoing", counterparty_id=built.x)
    # first responses 1, 2, 4 days: p90 = 2 + 0.8 × (4 − 2); fulfilments 6 and 10: p90 = 6 + 0.9 × 4
    assert figures(x["first_response"]) == (3, 2.0, 3.6)
    assert figures(x["fulfilment"]) == (2, 8.0, 9.6)
    w = row(rows, "outgoing", counterparty_id=built.w)
    assert figures(w["first_response"]) == (1, 1.0, 1.0)  # confirm_preserved is a response
    assert figures(w["fulfilment"]) == (0, None, None)  # a lapsed preservation is never fulfilled
    s = row(rows, "incoming", counterparty_id=built.s)
    assert figures(s["first_response"]) == (0, None, None)  # on an incoming request we are the responder
    assert figures(s["fulfilment"]) == (1, 3.0, 3.0)  # accept day 1 → execute day 5, 1 day awaiting more info
    assert {r["counterparty_id"] for r in rows} == {built.x, built.z, built.w, built.s}  # R6 never started


async def test_paused_time_awaiting_clarification_is_not_counted(built: StatsWorld, client: httpx.AsyncClient) -> None:
    stats = await get_stats(client, built.authority, Role.CENTRAL_AUTHORITY)

    z = row(stats["turnaround_by_counterparty"], "outgoing", counterparty_id=built.z)

    wall_days = (day(8) - day(0)).days
    assert figures(z["fulfilment"]) == (1, wall_days - 3, wall_days - 3)
    assert figures(z["first_response"]) == (1, 1.0, 1.0)  # the clarification request is the first response
    assert z["counterparty_name"].startswith(FORMULA_NAME)


async def test_turnaround_per_instrument(built: StatsWorld, client: httpx.AsyncClient) -> None:
    stats = await get_stats(client, built.authority, Role.CENTRAL_AUTHORITY)
    rows = stats["turnaround_by_instrument"]

    epoc = row(rows, "outgoing", instrument="eu-epoc")
    # first responses 1, 1, 2, 4: median 1.5, p90 = 2 + 0.7 × 2; fulfilments 5, 6, 10: p90 = 6 + 0.8 × 4
    assert figures(epoc["first_response"]) == (4, 1.5, 3.4)
    assert figures(epoc["fulfilment"]) == (3, 6.0, 9.2)
    assert epoc["instrument_title"]
    assert figures(row(rows, "outgoing", instrument="eu-epoc-pr")["fulfilment"]) == (0, None, None)
    assert figures(row(rows, "incoming", instrument="mlat")["fulfilment"]) == (1, 3.0, 3.0)
    assert len(rows) == 3


async def test_the_prosecution_service_sees_its_own_requests_but_not_the_authoritys_incoming_one(
    built: StatsWorld, client: httpx.AsyncClient
) -> None:
    stats = await get_stats(client, built.prosecution)

    assert stats["requests"] == 6
    assert stats["by_direction"] == {"outgoing": 6, "incoming": 0}
    assert all(r["direction"] == "outgoing" for r in stats["turnaround_by_counterparty"])


async def test_another_organisations_requests_are_never_counted(built: StatsWorld, client: httpx.AsyncClient) -> None:
    other = await get_stats(client, built.other)
    empty = await get_stats(client, built.empty)

    assert other["requests"] == 1
    [x] = other["turnaround_by_counterparty"]  # RB only, though X is also the authority's counterparty
    assert figures(x["first_response"]) == (1, 1.0, 1.0) and figures(x["fulfilment"]) == (1, 2.0, 2.0)
    assert empty["requests"] == 0
    assert set(empty["by_status"].values()) == {0} and set(empty["by_type"].values()) == {0}
    assert empty["by_counterparty"] == []
    assert empty["turnaround_by_counterparty"] == [] and empty["turnaround_by_instrument"] == []
    assert empty["overdue"] == {"came_due": 0, "overdue": 0, "met_on_time": 0, "rate": None}
    assert empty["preservations_lapsed"] == 0


async def test_from_and_to_select_requests_by_creation_time(built: StatsWorld, client: httpx.AsyncClient) -> None:
    later = await get_stats(client, built.authority, Role.CENTRAL_AUTHORITY, **{"from": rfc3339(day(1))})
    earlier = await get_stats(client, built.authority, Role.CENTRAL_AUTHORITY, to=rfc3339(day(1)))
    offset = await get_stats(client, built.authority, Role.CENTRAL_AUTHORITY, to="2026-11-02T10:00:00+01:00")

    assert later["requests"] == 1 and later["by_status"]["draft"] == 1  # only R6, filed on day 3
    assert later["turnaround_by_counterparty"] == [] and later["preservations_lapsed"] == 0
    assert later["period"] == {"from": rfc3339(day(1)), "to": None}
    assert earlier["requests"] == 6 and earlier["by_status"]["draft"] == 0
    assert earlier["preservations_lapsed"] == 1
    assert offset["requests"] == 0  # 10:00 in UTC+1 is T0 itself, and `to` is exclusive


async def test_a_naive_or_reversed_period_is_refused(built: StatsWorld, client: httpx.AsyncClient) -> None:
    headers = built.prosecution.headers()
    naive = await client.get("/api/v1/stats", params={"from": "2026-11-02T09:00:00"}, headers=headers)
    reversed_ = await client.get(
        "/api/v1/stats", params={"from": rfc3339(day(2)), "to": rfc3339(day(1))}, headers=headers
    )
    garbage = await client.get("/api/v1/stats/export.csv", params={"to": "yesterday"}, headers=headers)

    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "from"
    assert reversed_.status_code == 422
    assert garbage.status_code in (400, 422)


async def test_the_csv_has_the_same_figures_one_per_row(built: StatsWorld, client: httpx.AsyncClient) -> None:
    headers = built.authority.headers(Role.CENTRAL_AUTHORITY)
    stats = await get_stats(client, built.authority, Role.CENTRAL_AUTHORITY)

    response = await client.get("/api/v1/stats/export.csv", headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="mla-stats-20261102T090000Z.csv"'
    rows = parse_csv(response.text)
    assert list(rows[0]) == ["section", "direction", "key", "label", "measure", "value"]
    value = {(r["section"], r["direction"], r["key"], r["measure"]): r["value"] for r in rows}
    assert value["requests", "", "all", "count"] == "7"
    assert value["status", "", "fulfilled", "count"] == "4"
    assert value["urgency", "", "urgent", "count"] == "1"
    assert value["direction", "", "incoming", "count"] == "1"
    assert value["counterparty", "", built.x, "count"] == "4"
    assert value["turnaround_by_counterparty", "outgoing", built.x, "first_response_p90_days"] == "3.6"
    assert value["turnaround_by_counterparty", "outgoing", built.z, "fulfilment_median_days"] == "5.0"
    assert value["turnaround_by_counterparty", "outgoing", built.w, "fulfilment_median_days"] == ""  # null
    assert value["turnaround_by_instrument", "outgoing", "eu-epoc", "fulfilment_p90_days"] == "9.2"
    assert value["overdue", "", "deadlines", "came_due"] == str(stats["overdue"]["came_due"])
    assert value["preservations", "", "lapsed", "count"] == "1"
    # A counterparty named like a formula is shown as text by a spreadsheet, in the CSV only.
    [z] = [r for r in rows if r["section"] == "counterparty" and r["key"] == built.z]
    assert z["label"] == "'" + row_named(stats["by_counterparty"], built.z)


async def test_statistics_need_a_token(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/stats", "/api/v1/stats/export.csv"):
        response = await client.get(path)
        assert response.status_code == 401, path


# --- overdue rate: a world of its own, to count every deadline -----------------------------------


async def test_overdue_rate_counts_deadlines_that_came_due_and_were_still_running(
    world: World, clock: FixedClock
) -> None:
    """Each transmitted EPOC has a review clock (met at approval) and a 10-day response clock, due
    Thu 12 Nov 2026 23:59:59 in New York (day 10.8, Reg. 2023/1543 art 10(3)).

    At day 12: O1 fulfilled late (overdue), O2 fulfilled on day 3 (on time), O3 withdrawn on day 11
    (cancelled after due: overdue), O4 still open (overdue), O6 awaiting clarification since day 1
    (its response clock paused before due: not counted; our clarification answer, due day 11, still
    open: overdue); O5 withdrawn in review before its review clock came due (not counted). Reviews
    met on time: O1–O4, O6.
    """
    authority = await world.organisation(OrganisationKind.CENTRAL_AUTHORITY)
    prosecution = await world.organisation(central_authority=authority)
    case, provider = await world.case(prosecution), await world.counterparty()

    async def transmitted() -> dict[str, Any]:
        return await transmit(world, prosecution, authority, await world.request(prosecution, case, provider))

    o1, o2, o3, o4, o6 = [await transmitted() for _ in range(5)]
    o5 = await act(world, prosecution, Role.PROSECUTOR, await world.request(prosecution, case, provider), "submit")
    clock.set(T0 + timedelta(hours=1))
    await act(world, prosecution, Role.PROSECUTOR, o5, "withdraw", reason="Filed twice.")
    clock.set(day(1))
    await act(world, prosecution, Role.PROSECUTOR, o6, "request_clarification")
    clock.set(day(3))
    await act(world, prosecution, Role.PROSECUTOR, o2, "fulfil")
    clock.set(day(11))
    await act(world, prosecution, Role.PROSECUTOR, o3, "withdraw", reason="The suspect was identified otherwise.")
    clock.set(day(12))
    await act(world, prosecution, Role.PROSECUTOR, o1, "fulfil")
    del o4  # left open

    overall = await get_stats(world.client, prosecution)
    reviews_only = await get_stats(world.client, prosecution, to=rfc3339(day(10)))
    ten_day_clocks = await get_stats(world.client, prosecution, **{"from": rfc3339(day(10))})

    assert overall["overdue"] == {"came_due": 10, "overdue": 4, "met_on_time": 6, "rate": 0.4}
    assert reviews_only["overdue"] == {"came_due": 5, "overdue": 0, "met_on_time": 5, "rate": 0.0}
    assert ten_day_clocks["overdue"] == {"came_due": 5, "overdue": 4, "met_on_time": 1, "rate": 0.8}
    # `from`/`to` select deadlines by due date, not by the request's creation.
    assert reviews_only["requests"] == 6 and ten_day_clocks["requests"] == 0
