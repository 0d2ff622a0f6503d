"""Evidence received for a request, and its chain of custody (metadata and hashes only)."""

import uuid
from collections.abc import Collection
from datetime import datetime

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.enums import Direction
from mla.errors import Conflict, NotFound, Unprocessable
from mla.productions import repository
from mla.productions.models import CustodyEvent, Production
from mla.productions.schemas import CustodyCreate, CustodyOut, ProductionCreate, ProductionOut
from mla.requests import service as requests
from mla.users.principal import Principal

# Evidence exists only once the request went out (outgoing) or we took it on (incoming).
EVIDENCE_AFTER = {Direction.OUTGOING: ("transmit", "transmitted"), Direction.INCOMING: ("accept", "accepted")}


class NoEvidenceYet(Conflict):
    problem = "no-evidence-yet"
    title = "No evidence can have been received yet"


def to_out(production: Production, custody: list[CustodyEvent]) -> ProductionOut:
    out = msgspec.convert(production, ProductionOut, from_attributes=True)
    out.duplicate_of = production.duplicate_of_id
    out.custody = [msgspec.convert(event, CustodyOut, from_attributes=True) for event in custody]
    return out


def _not_after(field: str, moment: datetime, limit: datetime, what: str) -> None:
    if moment > limit:
        raise Unprocessable(
            f"{field} ({moment.isoformat()}) lies after {what} ({limit.isoformat()}).",
            errors=[{"field": field, "message": f"must not lie after {what}"}],
        )


async def record_production(
    session: AsyncSession, clock: Clock, actor: Principal, request_id: uuid.UUID, data: ProductionCreate
) -> ProductionOut:
    """Record evidence received; a SHA-256 already recorded on the request is flagged (`duplicate_of`).

    Refuses a request the caller cannot see (404) or does not handle (403), one that was never
    transmitted (outgoing) or accepted (incoming) (409), and a receipt in the future (422).
    """
    request = await requests.get_request_to_handle(session, actor, request_id)
    enabling, done = EVIDENCE_AFTER[Direction(request.direction)]
    if not await repository.has_taken(session, request.id, enabling):
        raise NoEvidenceYet(f"Evidence is recorded on a request once it was {done}; this one is {request.status}.")
    now = clock.now()
    _not_after("received_at", data.received_at, now, "now")
    earlier = await repository.first_with_hash(session, request.id, data.sha256)
    production = Production(
        **msgspec.structs.asdict(data),
        id=uuid.uuid4(),
        request_id=request.id,
        recorded_by=actor.user_id,
        created_at=now,
        duplicate_of_id=None if earlier is None else earlier.id,
    )
    session.add(production)
    await session.flush()
    details = {"production_id": production.id, **msgspec.to_builtins(data), "duplicate_of": production.duplicate_of_id}
    await audit.record(
        session,
        clock,
        actor,
        audit.request_entry(request, "record_production", from_status=request.status, changes=details),
    )
    return to_out(production, [])


async def record_custody(
    session: AsyncSession,
    clock: Clock,
    actor: Principal,
    request_id: uuid.UUID,
    production_id: uuid.UUID,
    data: CustodyCreate,
) -> ProductionOut:
    """Append a custody event; earlier events are never changed.

    Refuses a moment before the production's receipt or in the future (422).
    """
    request = await requests.get_request_to_handle(session, actor, request_id)
    production = await session.scalar(
        select(Production).where(Production.id == production_id, Production.request_id == request.id)
    )
    if production is None:
        raise NotFound("No such production for this request.")
    _not_after("at", data.at, clock.now(), "now")
    _not_after("received_at", production.received_at, data.at, "the custody event")
    event = CustodyEvent(
        **msgspec.structs.asdict(data),
        id=uuid.uuid4(),
        production_id=production.id,
        recorded_by=actor.user_id,
        created_at=clock.now(),
    )
    session.add(event)
    await session.flush()
    details = {"production_id": production.id, "custody_event_id": event.id, **msgspec.to_builtins(data)}
    await audit.record(
        session,
        clock,
        actor,
        audit.request_entry(request, "record_custody", from_status=request.status, changes=details),
    )
    return to_out(production, await custody_of(session, production.id))


async def custody_of(session: AsyncSession, production_id: uuid.UUID) -> list[CustodyEvent]:
    query = (
        select(CustodyEvent)
        .where(CustodyEvent.production_id == production_id)
        .order_by(CustodyEvent.at, CustodyEvent.created_at)
    )
    return list(await session.scalars(query))


async def list_productions(
    session: AsyncSession, clock: Clock, actor: Principal, request_id: uuid.UUID
) -> list[ProductionOut]:
    request = await requests.read_request(session, clock, actor, request_id, "read_productions")
    return await productions_of(session, request.id)


async def received_counts(session: AsyncSession, request_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How much evidence came back for each of these requests, which a list already showed the caller."""
    return await repository.received_counts(session, request_ids)


async def productions_of(session: AsyncSession, request_id: uuid.UUID) -> list[ProductionOut]:
    """The evidence of a request the caller has already read (`requests.read_request`), with custody."""
    productions = list(
        await session.scalars(
            select(Production)
            .where(Production.request_id == request_id)
            .order_by(Production.received_at, Production.id)
        )
    )
    events = await session.scalars(
        select(CustodyEvent)
        .where(CustodyEvent.production_id.in_([p.id for p in productions]))
        .order_by(CustodyEvent.at, CustodyEvent.created_at)
    )
    by_production: dict[uuid.UUID, list[CustodyEvent]] = {p.id: [] for p in productions}
    for event in events:
        by_production[event.production_id].append(event)
    return [to_out(p, by_production[p.id]) for p in productions]
