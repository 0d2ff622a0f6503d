"""Evidence received for a request, and its chain of custody (metadata and hashes only)."""

import uuid
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.enums import Direction
from mla.errors import Conflict, NotFound, Unprocessable
from mla.productions import repository
from mla.productions.schemas import CustodyCreate, ProductionCreate, ProductionOut
from mla.requests import service as requests
from mla.users.principal import Principal

# Evidence exists only once the request went out (outgoing) or we took it on (incoming).
EVIDENCE_AFTER = {Direction.OUTGOING: ("transmit", "transmitted"), Direction.INCOMING: ("accept", "accepted")}


class NoEvidenceYet(Conflict):
    problem = "no-evidence-yet"
    title = "No evidence can have been received yet"


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
    recorded = {"id": uuid.uuid4(), "request_id": request.id, "recorded_by": actor.user_id, "created_at": now}
    values = msgspec.structs.asdict(data) | recorded | {"duplicate_of_id": earlier}
    production = await repository.insert_production(session, values)
    details = {"production_id": production.id, **msgspec.to_builtins(data), "duplicate_of": production.duplicate_of}
    await audit.record(
        session,
        clock,
        actor,
        audit.request_entry(request, "record_production", from_status=request.status, changes=details),
    )
    return production


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
    production = await repository.production(session, request.id, production_id)
    if production is None:
        raise NotFound("No such production for this request.")
    _not_after("at", data.at, clock.now(), "now")
    _not_after("received_at", production.received_at, data.at, "the custody event")
    event_id = uuid.uuid4()
    recorded = {"id": event_id, "production_id": production.id, "recorded_by": actor.user_id, "created_at": clock.now()}
    await repository.insert_custody_event(session, msgspec.structs.asdict(data) | recorded)
    details = {"production_id": production.id, "custody_event_id": event_id, **msgspec.to_builtins(data)}
    await audit.record(
        session,
        clock,
        actor,
        audit.request_entry(request, "record_custody", from_status=request.status, changes=details),
    )
    return (await repository.with_custody(session, [production]))[0]


async def list_productions(
    session: AsyncSession, clock: Clock, actor: Principal, request_id: uuid.UUID
) -> list[ProductionOut]:
    """Refuses a request the caller cannot see (404); an accountable read is recorded."""
    request = await requests.read_request(session, clock, actor, request_id, "read_productions")
    return await repository.productions_of(session, request.id)
