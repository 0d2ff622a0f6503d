"""Reference data (instruments, deadline rules, organisations with their calendars) cached per process.

Every change to those tables bumps `reference_data_version` in the changing transaction (a statement
trigger, so no writer can forget). A reader compares the version it reads in its own transaction with
the one its cache holds and reloads everything on any difference: the first request after an admin
edit commits sees the edit, and no timer is involved. Versions come from a sequence, so a rolled-back
edit never hands the same number to other data. The rows are immutable SQLAlchemy `Row`s, shared by
every request of the process; they carry the tables' column names as attributes.
"""

import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, Row
from sqlalchemy.ext.asyncio import AsyncSession

from mla.reference import repository

# The version already read in this session's transaction (by authentication), saving a statement;
# kept with that transaction, so a later transaction of the same session reads it again.
_VERSION_READ = "reference_data_version"


@dataclass(frozen=True)
class ReferenceData:
    version: int
    instruments: Mapping[str, Row[Any]]  # by code
    deadline_rules: tuple[Row[Any], ...]  # by code
    organisations: Mapping[uuid.UUID, Row[Any]]

    def instrument(self, code: str) -> Row[Any] | None:
        return self.instruments.get(code)

    def organisation(self, organisation_id: uuid.UUID) -> Row[Any] | None:
        return self.organisations.get(organisation_id)

    def rules_opened_by(self, action: str) -> list[Row[Any]]:
        return [rule for rule in self.deadline_rules if rule.opens_on == action]

    def deadline_rule(self, rule_id: uuid.UUID) -> Row[Any]:
        return self._rules_by_id[rule_id]

    @cached_property
    def _rules_by_id(self) -> dict[uuid.UUID, Row[Any]]:
        return {rule.id: rule for rule in self.deadline_rules}


# One cache per database engine: tests and tools may hold several databases in one process.
_CACHES: "weakref.WeakKeyDictionary[Engine, ReferenceData]" = weakref.WeakKeyDictionary()


def remember_version(session: AsyncSession, version: int) -> None:
    """Note the version a statement of this transaction read, so `current` needs no statement of its own."""
    session.info[_VERSION_READ] = (session.get_transaction(), version)


async def current(session: AsyncSession) -> ReferenceData:
    """The reference data as of this transaction's version: cached, or loaded (and cached) if it changed."""
    transaction, version = session.info.get(_VERSION_READ, (None, None))
    if version is None or transaction is not session.get_transaction():
        version = await repository.version(session)
        remember_version(session, version)
    engine = _engine(session)
    cached = _CACHES.get(engine)
    if cached is not None and cached.version == version:
        return cached
    # Read again before loading: a version noted earlier in this transaction (by authentication)
    # predates any edit the transaction made since, and rows read now carry that edit; filed under the
    # committed version, a rollback would leave the cache holding what was never committed. A version
    # read now is this transaction's own (a sequence number nobody else gets) if it edited anything.
    version = await repository.version(session)
    remember_version(session, version)
    # Loaded after the version was read: at least as new as the version says, never older.
    loaded = ReferenceData(
        version=version,
        instruments=await repository.instruments(session),
        deadline_rules=await repository.deadline_rules(session),
        organisations=await repository.organisations(session),
    )
    _CACHES[engine] = loaded
    return loaded


def _engine(session: AsyncSession) -> Engine:
    bind = session.sync_session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine
