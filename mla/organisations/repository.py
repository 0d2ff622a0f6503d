"""Every query on organisations, on Core (platform administration; names shown to every user).

Each write fires the statement trigger that bumps the reference data's version (mla/reference)."""

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mla.organisations.models import Organisation
from mla.organisations.schemas import OrganisationOut
from mla.pagination import Page, struct_page
from mla.rows import columns_of, to_struct_or_none

_organisations = Organisation.__table__.c
_OUT_COLUMNS = columns_of(Organisation.__table__, OrganisationOut)


async def organisation(session: AsyncSession, organisation_id: uuid.UUID) -> OrganisationOut | None:
    query = select(*_OUT_COLUMNS).where(_organisations.id == organisation_id)
    return to_struct_or_none((await session.execute(query)).first(), OrganisationOut)


async def organisation_named(session: AsyncSession, name: str) -> OrganisationOut | None:
    query = select(*_OUT_COLUMNS).where(_organisations.name == name)
    return to_struct_or_none((await session.execute(query)).first(), OrganisationOut)


async def lock_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> bool:
    """Lock the organisation's row for the transaction (changes to who administers it are serialised);
    False if there is no such organisation.

    FOR NO KEY UPDATE: rows that merely reference the organisation (cases, requests) are not held up.
    """
    query = select(_organisations.id).where(_organisations.id == organisation_id).with_for_update(key_share=True)
    return await session.scalar(query) is not None


async def insert_organisation(session: AsyncSession, values: dict[str, Any]) -> OrganisationOut | None:
    """Store an organisation and answer it as stored; None if its name is taken already."""
    statement = insert(Organisation.__table__).values(values).on_conflict_do_nothing().returning(*_OUT_COLUMNS)
    return to_struct_or_none((await session.execute(statement)).first(), OrganisationOut)


async def names(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names of organisations by id."""
    rows = await session.execute(select(_organisations.id, _organisations.name).where(_organisations.id.in_(ids)))
    return {row.id: row.name for row in rows}


async def page(session: AsyncSession, cursor: str | None, limit: int) -> Page[OrganisationOut]:
    """One page of every organisation, newest first."""
    return await struct_page(session, Organisation.__table__, OrganisationOut, cursor, limit)
