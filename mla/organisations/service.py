"""Creating and listing organisations (platform administration)."""

import uuid

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.enums import OrganisationKind
from mla.errors import Conflict, NotFound, Unprocessable
from mla.organisations import repository
from mla.organisations.schemas import OrganisationCreate, OrganisationOut
from mla.pagination import Page
from mla.users.principal import Principal


async def create_organisation(
    session: AsyncSession, clock: Clock, actor: Principal | None, data: OrganisationCreate
) -> OrganisationOut:
    """Refuses a duplicate name (409) and a central authority that is not one (422)."""
    if data.central_authority_id is not None:
        authority = await repository.organisation(session, data.central_authority_id)
        if authority is None or authority.kind != OrganisationKind.CENTRAL_AUTHORITY:
            raise Unprocessable(
                "central_authority_id must name an existing central authority.",
                errors=[{"field": "central_authority_id", "message": "no such central authority"}],
            )
    values = msgspec.structs.asdict(data) | {"id": uuid.uuid4(), "created_at": clock.now()}
    organisation = await repository.insert_organisation(session, values)
    if organisation is None:
        raise Conflict(f"An organisation named {data.name!r} already exists.")
    entry = audit.AuditEntry(
        action="create_organisation",
        chain=audit.admin_chain(),
        organisation_id=organisation.id,
        changes={"after": msgspec.to_builtins(organisation)},
    )
    await audit.record(session, clock, actor, entry)
    return organisation


async def get_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> OrganisationOut:
    """Refuses an unknown id (404)."""
    organisation = await repository.organisation(session, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


async def list_organisations(session: AsyncSession, cursor: str | None, limit: int) -> Page[OrganisationOut]:
    return await repository.page(session, cursor, limit)
