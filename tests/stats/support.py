"""Helpers for the statistics tests: walk requests through the workflow, read the figures."""

import csv
import io
import uuid
from typing import Any

import httpx

from mla.counterparties import service as counterparties
from mla.counterparties.schemas import CounterpartyCreate
from mla.enums import CounterpartyKind, Role
from tests.factories import Org, World, unique


async def act(
    world: World, org: Org, role: Role, request: dict[str, Any], action: str, **fields: Any
) -> dict[str, Any]:
    response = await world.client.post(
        f"/api/v1/requests/{request['id']}/actions/{action}",
        json={"version": request["version"], **fields},
        headers=org.headers(role),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def transmit(world: World, prosecution: Org, authority: Org, request: dict[str, Any]) -> dict[str, Any]:
    """Submit, attest, approve and transmit a draft, all at the clock's current time."""
    return await world.walk_to_transmitted(prosecution, authority, request)


async def named_counterparty(world: World, name: str, kind: CounterpartyKind = CounterpartyKind.PROVIDER) -> uuid.UUID:
    """A counterparty whose name starts with `name` (the catalogue wants names unique)."""
    async with world.sessionmaker() as session, session.begin():
        data = CounterpartyCreate(kind=kind, name=f"{name} {unique('cp')}", country="US")
        return (await counterparties.create_counterparty(session, world.clock, None, data)).id


async def get_stats(client: httpx.AsyncClient, org: Org, role: Role = Role.PROSECUTOR, **params: str) -> dict[str, Any]:
    response = await client.get("/api/v1/stats", params=params, headers=org.headers(role))
    assert response.status_code == 200, response.text
    return response.json()


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))
