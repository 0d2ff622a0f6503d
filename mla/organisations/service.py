"""Creating and listing organisations (platform administration)."""

import uuid
from collections.abc import Collection

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.enums import OrganisationKind
from mla.errors import Conflict, Unprocessable
from mla.organisations.models import Organisation
from mla.organisations.schemas import OrganisationCreate, OrganisationOut
from mla.pagination import Page, fetch_page
from mla.users.principal import Principal


def to_out(organisation: Organisation) -> OrganisationOut:
    return msgspec.convert(organisation, OrganisationOut, from_attributes=True)


async def create_organisation(
    session: AsyncSession, clock: Clock, actor: Principal | None, data: OrganisationCreate
) -> Organisation:
    """Refuses a duplicate name (409) and a central authority that is not one (422)."""
    if data.central_authority_id is not None:
        authority = await session.get(Organisation, data.central_authority_id)
        if authority is None or authority.kind != OrganisationKind.CENTRAL_AUTHORITY:
            raise Unprocessable(
                "central_authority_id must name an existing central authority.",
                errors=[{"field": "central_authority_id", "message": "no such central authority"}],
            )
    if await session.scalar(select(Organisation.id).where(Organisation.name == data.name)) is not None:
        raise Conflict(f"An organisation named {data.name!r} already exists.")
    organisation = Organisation(**msgspec.structs.asdict(data), id=uuid.uuid4(), created_at=clock.now())
    session.add(organisation)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"An organisation named {data.name!r} already exists.") from exc
    await audit.record(
        session,
        clock,
        actor,
        audit.AuditEntry(
            action="create_organisation",
            chain=audit.admin_chain(),
            organisation_id=organisation.id,
            changes={"after": msgspec.to_builtins(to_out(organisation))},
        ),
    )
    return organisation


async def lock(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation | None:
    """The organisation, locked for the transaction: changes to who administers it are serialised.

    FOR NO KEY UPDATE: rows that merely reference the organisation (cases, requests) are not held up.
    """
    return await session.get(Organisation, organisation_id, with_for_update={"key_share": True})


async def find_by_name(session: AsyncSession, name: str) -> Organisation | None:
    return await session.scalar(select(Organisation).where(Organisation.name == name))


async def get_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation:
    return await session.get_one(Organisation, organisation_id)


async def names(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names of organisations by id (for pages that show who owns what)."""
    rows = await session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(set(ids))))
    return {row.id: row.name for row in rows}


async def list_organisations(session: AsyncSession, cursor: str | None, limit: int) -> Page[OrganisationOut]:
    return await fetch_page(session, select(Organisation), Organisation, cursor, limit, to_out)
