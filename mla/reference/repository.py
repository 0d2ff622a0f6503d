"""Every query of the reference data cache: its version and the rows it holds."""

import uuid
from typing import Any

from sqlalchemy import Row, ScalarSelect, select
from sqlalchemy.ext.asyncio import AsyncSession

from mla.deadlines.models import DeadlineRule
from mla.instruments.models import Instrument
from mla.organisations.models import Organisation
from mla.reference.models import reference_data_version


def version_column() -> ScalarSelect[int]:
    """The version as a column, to read it in a statement the request sends anyway (authentication's)."""
    return select(reference_data_version.c.version).scalar_subquery()


async def version(session: AsyncSession) -> int:
    return int(await session.scalar(select(reference_data_version.c.version)) or 0)


async def instruments(session: AsyncSession) -> dict[str, Row[Any]]:
    rows = await session.execute(select(*Instrument.__table__.c))
    return {row.code: row for row in rows}


async def deadline_rules(session: AsyncSession) -> tuple[Row[Any], ...]:
    """Every rule, ordered by code (the order clocks are opened in)."""
    return tuple(await session.execute(select(*DeadlineRule.__table__.c).order_by(DeadlineRule.__table__.c.code)))


async def organisations(session: AsyncSession) -> dict[uuid.UUID, Row[Any]]:
    rows = await session.execute(select(*Organisation.__table__.c))
    return {row.id: row for row in rows}
