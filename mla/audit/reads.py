"""Accountable reads (issue 9 §7): who read case data from outside the organisation that owns it,
what auditors read, and every export.

What is recorded, and on which chain:
- **One object** (a request and what hangs under it: its checks, deadlines, productions,
  communications and audit trail; or a case), read by an auditor or by a user of another
  organisation than the owner (e.g. the central authority reading a prosecution service's
  request): one event on that object's own chain (`request:<id>`, `case:<id>`), so the owner
  sees who read it in the object's trail.
- **A list page** (requests, cases, the queue) read by an auditor, or showing at least one row
  another organisation owns: one event per call on the reader's own chain
  (`reads:<organisation id>:<user id>`), with the query (filters, cursor, limit), the row count
  and the owning organisations, never one event per row. A page spans many objects and owners:
  writing to each object's chain would cost one event per row and lock every one of those chains;
  one chain per organisation would make all its officers' list calls wait on one lock. Per reader,
  only one user's own concurrent calls wait on each other, and the prefix `reads:<organisation id>:`
  gathers an organisation's reads.
- **Every export** (the request CSV, the statistics CSV), whoever asks: one event per call on the
  reader's chain with the query and the row count.
Reads that show no case data are not recorded: the actions a user may take, a chain's
verification verdict, statistics as JSON (aggregates), notifications, the catalogue.
Events are written in the reading transaction, so a read whose event cannot be written fails.
"""

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit.service import AuditEntry, record
from mla.clock import Clock
from mla.enums import Role
from mla.users.principal import Principal


def reads_chain(actor: Principal) -> str:
    return f"reads:{actor.organisation_id}:{actor.user_id}"  # 79 characters: the column holds 80


def is_accountable(actor: Principal, owner_id: uuid.UUID) -> bool:
    """A read to record: by an auditor, or of data another organisation owns."""
    return actor.has_any(Role.AUDITOR) or actor.organisation_id != owner_id


def query_of(filters: object | None = None, **parameters: Any) -> dict[str, Any]:
    """What the caller asked for, as the event keeps it: the filters (a Struct or dataclass) and
    parameters that were given."""
    asked = {**(msgspec.to_builtins(filters) if filters is not None else {}), **parameters}
    return {name: value for name, value in asked.items() if value is not None}


class Owned(Protocol):
    """A row shown in a list: it names the organisation that owns it."""

    @property
    def organisation_id(self) -> uuid.UUID: ...


async def record_page_read(
    session: AsyncSession, clock: Clock, actor: Principal, action: str, rows: Sequence[Owned], query: dict[str, Any]
) -> None:
    """Record one list call that showed `rows`, if accountable (an auditor, or another organisation's rows)."""
    owners = {row.organisation_id for row in rows}
    if not actor.has_any(Role.AUDITOR) and owners <= {actor.organisation_id}:
        return
    changes = {"query": query, "rows": len(rows), "owners": sorted(str(owner) for owner in owners)}
    await _record_on_reader_chain(session, clock, actor, action, changes)


async def record_export(
    session: AsyncSession, clock: Clock, actor: Principal, action: str, *, query: dict[str, Any], rows: int
) -> None:
    """Record one export call, always, with the number of data rows it sends."""
    await _record_on_reader_chain(session, clock, actor, action, {"query": query, "rows": rows})


async def _record_on_reader_chain(
    session: AsyncSession, clock: Clock, actor: Principal, action: str, changes: dict[str, Any]
) -> None:
    entry = AuditEntry(
        action=action,
        chain=reads_chain(actor),
        organisation_id=actor.organisation_id,
        changes=changes,
    )
    await record(session, clock, actor, entry)
