"""Rows of Core statements read straight into msgspec structs, with no ORM object in between."""

from typing import Any, TypeVar

import msgspec
from sqlalchemy import Column, Row, Table

S = TypeVar("S", bound=msgspec.Struct)


def columns_of(table: Table, out: type[msgspec.Struct]) -> list[Column[Any]]:
    """The table's columns that `out` names, in `out`'s order (every field must be a column)."""
    return [table.c[name] for name in out.__struct_fields__]


def to_struct(row: Row[Any], out: type[S]) -> S:
    return msgspec.convert(row, out, from_attributes=True)


def to_struct_or_none(row: Row[Any] | None, out: type[S]) -> S | None:
    return None if row is None else to_struct(row, out)
