"""Which states are bound by which treaty: read by everyone and by the legality checks, edited by admins."""

import uuid
from collections import defaultdict
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.enums import CounterpartyKind, Direction
from mla.errors import NotFound, Unprocessable
from mla.fields import check_country
from mla.treaties import repository
from mla.treaties.models import Treaty, TreatyParty
from mla.treaties.schemas import PartyInput, TreatyKind, TreatyOut, TreatyPartyOut
from mla.users.principal import Principal

REQUESTING, REQUESTED, PROVIDERS = "requesting state", "requested state", "provider's state"


def states_to_bind(
    kind: TreatyKind, direction: Direction, own_country: str, counterparty_country: str, counterparty_kind: str
) -> list[tuple[str, str]]:
    """(country, role) of each state the treaty must bind for a request, the requesting state first.

    Ours and the counterparty's (a provider's state of establishment) for a convention or a
    bilateral treaty; only the issuing (requesting) state for an EU regulation, which binds
    providers offering services in the Union wherever they are established (Reg. 2023/1543 art 2).
    """
    outgoing = direction == Direction.OUTGOING
    foreign_role = (
        PROVIDERS if counterparty_kind == CounterpartyKind.PROVIDER else (REQUESTED if outgoing else REQUESTING)
    )
    states = [(own_country, REQUESTING if outgoing else REQUESTED), (counterparty_country, foreign_role)]
    if not outgoing:
        states.reverse()
    if kind == TreatyKind.EU_REGULATION:
        return states[:1]
    return states


def party_out(party: TreatyParty) -> TreatyPartyOut:
    return msgspec.convert(party, TreatyPartyOut, from_attributes=True)


def treaty_out(treaty: Treaty, parties: list[TreatyParty]) -> TreatyOut:
    out = msgspec.convert(treaty, TreatyOut, from_attributes=True)
    out.parties = [party_out(p) for p in parties]
    return out


async def list_treaties(session: AsyncSession) -> list[TreatyOut]:
    """Every treaty with its parties (a few hundred rows at most)."""
    treaties = await repository.all_treaties(session)
    by_treaty: dict[uuid.UUID, list[TreatyParty]] = defaultdict(list)
    for party in await repository.parties(session, [t.id for t in treaties]):
        by_treaty[party.treaty_id].append(party)
    return [treaty_out(t, by_treaty[t.id]) for t in treaties]


async def get_treaty(session: AsyncSession, code: str) -> Treaty:
    treaty = await repository.find_by_code(session, code)
    if treaty is None:
        raise NotFound(f"No treaty with code {code!r}.")
    return treaty


async def get_treaty_out(session: AsyncSession, code: str) -> TreatyOut:
    treaty = await get_treaty(session, code)
    return treaty_out(treaty, await repository.parties(session, [treaty.id]))


def _country(value: str) -> str:
    try:
        return check_country(value)
    except ValueError as exc:
        raise Unprocessable(str(exc), errors=[{"field": "country", "message": str(exc)}]) from exc


async def set_party(
    session: AsyncSession, clock: Clock, actor: Principal, code: str, country: str, data: PartyInput
) -> TreatyParty:
    """Record where a state stands with a treaty (insert or replace), audited with before and after.

    Refuses an unknown treaty (404) and a country that is not ISO 3166-1 alpha-2 (422).
    """
    treaty = await get_treaty(session, code)
    country = _country(country)
    party = await repository.party(session, treaty.id, country, for_update=True)
    before = None if party is None else msgspec.to_builtins(party_out(party))
    if party is None:
        party = TreatyParty(id=uuid.uuid4(), treaty_id=treaty.id, country=country)
    for name, value in msgspec.structs.asdict(data).items():
        setattr(party, name, value)
    party.updated_at = clock.now()
    await repository.write(session, party)
    changes = {"treaty": code, "country": country, "before": before, "after": msgspec.to_builtins(party_out(party))}
    await record_admin_event(session, clock, actor, "set_treaty_party", changes)
    return party


async def remove_party(session: AsyncSession, clock: Clock, actor: Principal, code: str, country: str) -> None:
    """Forget a state's record (it then counts as not bound); 404 if there is none."""
    treaty = await get_treaty(session, code)
    party = await repository.party(session, treaty.id, _country(country), for_update=True)
    if party is None:
        raise NotFound(f"No record of {country} for treaty {code!r}.")
    before = msgspec.to_builtins(party_out(party))
    await repository.delete_party(session, party)
    await record_admin_event(
        session, clock, actor, "remove_treaty_party", {"treaty": code, "country": party.country, "before": before}
    )


async def record_admin_event(
    session: AsyncSession, clock: Clock, actor: Principal | None, action: str, changes: dict[str, Any]
) -> None:
    await audit.record(
        session, clock, actor, audit.AuditEntry(action=action, chain=audit.admin_chain(), changes=changes)
    )


async def ensure_treaty(session: AsyncSession, clock: Clock, **values: Any) -> tuple[Treaty, bool]:
    """The treaty with `values["code"]`, inserted if missing (never updated); and whether it was new."""
    existing = await repository.find_by_code(session, values["code"])
    if existing is not None:
        return existing, False
    treaty = Treaty(id=uuid.uuid4(), created_at=clock.now(), **values)
    await repository.write(session, treaty)
    return treaty, True


async def ensure_party(session: AsyncSession, clock: Clock, treaty: Treaty, country: str, data: PartyInput) -> bool:
    """Insert a state's record unless one exists (an administrator's edit is never overwritten)."""
    if await repository.party(session, treaty.id, country) is not None:
        return False
    party = TreatyParty(
        id=uuid.uuid4(), treaty_id=treaty.id, country=country, updated_at=clock.now(), **msgspec.structs.asdict(data)
    )
    await repository.write(session, party)
    return True
