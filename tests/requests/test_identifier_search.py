"""Search by identifier (issue 13): what have we already asked about this e-mail, phone, IP or account?

`GET /requests?identifier=` matches exactly, after the normalisation identifiers get when filed,
under every kind that accepts the text; the caller's scoping applies as to any list.
"""

from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

from mla.enums import Role
from mla.fields import identifier_forms
from mla.requests import repository
from mla.requests.models import Request
from tests.factories import Org, World


async def asking_about(world: World, org: Org, *identifiers: dict[str, str]) -> dict[str, Any]:
    return await world.request(org, await world.case(org), await world.counterparty(), identifiers=list(identifiers))


async def found(world: World, org: Org, identifier: str) -> list[str]:
    response = await world.client.get(
        "/api/v1/requests", params={"identifier": identifier}, headers=org.headers(Role.PROSECUTOR)
    )
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["items"]]


async def test_an_identifier_finds_the_requests_that_asked_about_it_however_it_is_typed(world: World) -> None:
    org = await world.organisation()
    phone_and_ip = await asking_about(
        world, org, {"kind": "phone", "value": "+49 30 901820"}, {"kind": "ip", "value": "2001:DB8:0::1"}
    )
    mail = await asking_about(world, org, {"kind": "email", "value": "suspect@Example.COM"})
    account = await asking_about(world, org, {"kind": "account", "value": "DE89 3704 0044 0532 0130 00"})

    assert await found(world, org, "+49 (30) 901-820") == [phone_and_ip["reference"]]
    assert await found(world, org, "2001:db8:0:0:0:0:0:1") == [phone_and_ip["reference"]]
    assert await found(world, org, " suspect@example.com ") == [mail["reference"]]
    assert await found(world, org, "DE89 3704 0044 0532 0130 00") == [account["reference"]]


async def test_only_exact_matches_are_found_never_parts_of_an_identifier(world: World) -> None:
    org = await world.organisation()
    await asking_about(world, org, {"kind": "email", "value": "suspect@example.com"})

    assert await found(world, org, "suspect@example") == []
    assert await found(world, org, "suspect") == []
    assert await found(world, org, "example.com") == []


async def test_another_organisations_request_about_the_same_identifier_is_not_found(world: World) -> None:
    ours, theirs = await world.organisation(), await world.organisation()
    mine = await asking_about(world, ours, {"kind": "email", "value": "shared@example.com"})
    await asking_about(world, theirs, {"kind": "email", "value": "shared@example.com"})

    assert await found(world, ours, "shared@example.com") == [mine["reference"]]


async def test_a_blank_identifier_is_no_filter_and_a_nul_or_overlong_one_is_refused(world: World) -> None:
    org = await world.organisation()
    filed = await asking_about(world, org, {"kind": "email", "value": "blank@example.com"})
    headers = org.headers(Role.PROSECUTOR)

    assert await found(world, org, "   ") == [filed["reference"]]
    for refused in ("a\x00b", "x" * 501):
        response = await world.client.get("/api/v1/requests", params={"identifier": refused}, headers=headers)
        assert response.status_code in (400, 422), response.text


class Explain(Executable, ClauseElement):
    """`EXPLAIN <query>`, its parameters bound as SQLAlchemy binds them when it runs the query."""

    inherit_cache = False

    def __init__(self, query: Select[Any]) -> None:
        self.query = query


@compiles(Explain)
def _explain(element: Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN " + compiler.process(element.query, **kw)


async def test_the_identifier_condition_is_answered_by_its_index(world: World) -> None:
    """The planner may start from the organisation's rows when it has few; the condition itself must be indexable."""
    condition = repository.holds_identifier(identifier_forms("suspect@example.com"))

    async with world.sessionmaker() as session, session.begin():
        await session.execute(text("SET LOCAL enable_seqscan = off"))  # a small table: ask whether the index applies
        plan = "\n".join(row[0] for row in await session.execute(Explain(select(Request.id).where(condition))))

    assert "Bitmap Index Scan on ix_requests_identifiers" in plan, plan
