"""Keyset pagination: newest first on (created_at, id), with an opaque cursor."""

import base64
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from sqlalchemy import ColumnElement, Select, Table, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from mla.errors import Unprocessable
from mla.fields import AwareDatetime, check_moment
from mla.rows import S, columns_of, to_struct

T = TypeVar("T")
Limit = Annotated[int, msgspec.Meta(ge=1, le=200)]
DEFAULT_LIMIT = 50


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None


class _Position(msgspec.Struct, array_like=True):
    # Aware and within the years every stored row lies in, so a forged cursor is a 422 and never
    # an overflow while the driver converts it to UTC (a 500).
    created_at: AwareDatetime
    id: uuid.UUID

    def __post_init__(self) -> None:
        check_moment(self.created_at)


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(_Position(created_at, row_id))).decode().rstrip("=")


def decode_cursor(cursor: str) -> _Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=_Position)
    except (ValueError, msgspec.DecodeError) as exc:
        raise Unprocessable(
            "The cursor is not one this API issued.", errors=[{"field": "cursor", "message": "invalid cursor"}]
        ) from exc


def keyset(
    query: Select[Any],
    created_at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
    cursor: str | None,
    limit: int,
) -> Select[Any]:
    """Order newest first and start after `cursor`; fetches one extra row to know if there is more."""
    if cursor is not None:
        position = decode_cursor(cursor)
        query = query.where(tuple_(created_at, row_id) < (position.created_at, position.id))
    return query.order_by(created_at.desc(), row_id.desc()).limit(limit + 1)


def page_of(rows: Sequence[Any], limit: int, convert: Any) -> Page[Any]:
    """Cut the extra row and point the cursor at the last row shown."""
    shown = rows[:limit]
    more = len(rows) > limit
    cursor = encode_cursor(shown[-1].created_at, shown[-1].id) if more and shown else None
    return Page(items=[convert(row) for row in shown], next_cursor=cursor)


async def fetch_page(
    session: AsyncSession, query: Select[Any], model: Any, cursor: str | None, limit: int, convert: Any
) -> Page[Any]:
    """One page of `query`'s `model` rows, newest first, each converted for the API."""
    rows = (await session.scalars(keyset(query, model.created_at, model.id, cursor, limit))).all()
    return page_of(rows, limit, convert)


async def struct_page(
    session: AsyncSession, table: Table, out: type[S], cursor: str | None, limit: int, *where: ColumnElement[bool]
) -> Page[S]:
    """One page of `table`'s rows meeting `where`, newest first, reading only the columns `out` names
    and converting each row straight into `out` (Core: no ORM object is built)."""
    query = keyset(select(*columns_of(table, out)).where(*where), table.c.created_at, table.c.id, cursor, limit)
    rows = (await session.execute(query)).all()
    return page_of(rows, limit, lambda row: to_struct(row, out))
