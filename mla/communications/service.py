"""Letters, acknowledgements and calls exchanged with the counterparty about a request."""

import uuid

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.communications.models import Communication
from mla.communications.schemas import CommunicationCreate, CommunicationOut
from mla.deadlines import service as deadlines
from mla.enums import Direction
from mla.requests import service as requests
from mla.users.principal import Principal


def to_out(communication: Communication) -> CommunicationOut:
    return msgspec.convert(communication, CommunicationOut, from_attributes=True)


async def record_communication(
    session: AsyncSession, clock: Clock, actor: Principal, request_id: uuid.UUID, data: CommunicationCreate
) -> Communication:
    """Refuses a request the caller cannot see (404) or does not handle (403)."""
    request = await requests.get_request_to_handle(session, actor, request_id)
    direction = data.direction.canonical
    communication = Communication(
        **msgspec.structs.asdict(data) | {"direction": direction.value},
        id=uuid.uuid4(),
        request_id=request.id,
        recorded_by=actor.user_id,
        created_at=clock.now(),
    )
    session.add(communication)
    await session.flush()
    details = {"communication_id": communication.id, **msgspec.to_builtins(data), "direction": direction.value}
    if direction == Direction.OUTGOING:
        details |= (await deadlines.restart_recurring(session, clock, request, "follow_up_sent")).as_audit()
    entry = audit.request_entry(request, "record_communication", from_status=request.status, changes=details)
    await audit.record(session, clock, actor, entry)
    return communication


async def list_communications(
    session: AsyncSession, clock: Clock, actor: Principal, request_id: uuid.UUID
) -> list[CommunicationOut]:
    request = await requests.read_request(session, clock, actor, request_id, "read_communications")
    return await communications_of(session, request.id)


async def communications_of(session: AsyncSession, request_id: uuid.UUID) -> list[CommunicationOut]:
    """The communications of a request the caller has already read (`requests.read_request`), oldest first."""
    query = (
        select(Communication)
        .where(Communication.request_id == request_id)
        .order_by(Communication.occurred_at, Communication.id)
    )
    return [to_out(c) for c in await session.scalars(query)]
