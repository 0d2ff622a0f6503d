"""Letters, acknowledgements and calls exchanged with the counterparty about a request."""

import uuid

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.communications import repository
from mla.communications.schemas import CommunicationCreate, CommunicationOut
from mla.deadlines import service as deadlines
from mla.enums import Direction
from mla.requests import service as requests
from mla.users.principal import Principal


async def record_communication(
    session: AsyncSession, clock: Clock, actor: Principal, request_id: uuid.UUID, data: CommunicationCreate
) -> CommunicationOut:
    """Refuses a request the caller cannot see (404) or does not handle (403)."""
    request = await requests.get_request_to_handle(session, actor, request_id)
    direction = data.direction.canonical
    recorded = {"id": uuid.uuid4(), "request_id": request.id, "recorded_by": actor.user_id, "created_at": clock.now()}
    values = msgspec.structs.asdict(data) | {"direction": direction.value} | recorded
    communication = await repository.insert_communication(session, values)
    details = {"communication_id": communication.id, **msgspec.to_builtins(data), "direction": direction.value}
    if direction == Direction.OUTGOING:
        details |= (await deadlines.restart_recurring(session, clock, request, "follow_up_sent")).as_audit()
    entry = audit.request_entry(request, "record_communication", from_status=request.status, changes=details)
    await audit.record(session, clock, actor, entry)
    return communication


async def list_communications(
    session: AsyncSession, clock: Clock, actor: Principal, request_id: uuid.UUID
) -> list[CommunicationOut]:
    """Refuses a request the caller cannot see (404); an accountable read is recorded."""
    request = await requests.read_request(session, clock, actor, request_id, "read_communications")
    return await repository.communications_of(session, request.id)
