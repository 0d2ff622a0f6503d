"""Every query of the workflow actions, on SQLAlchemy Core: rows come back as msgspec structs, no ORM
objects, so an action reads what it needs once and writes the request row once."""

import functools
import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Select, and_, any_, bindparam, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit.models import AuditEvent
from mla.enums import Role
from mla.requests.access import HANDLER_ROLES
from mla.requests.models import Request
from mla.requests.repository import visible_to
from mla.users.models import User
from mla.users.principal import Principal

REQUESTS = Request.__table__


class RequestRow(msgspec.Struct, kw_only=True):
    """A request row as an action works on it: every column, changed in place, written back once."""

    id: uuid.UUID
    reference: str
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    central_authority_id: uuid.UUID | None
    executing_organisation_id: uuid.UUID | None
    direction: str
    type: str
    target_id: uuid.UUID
    instrument: str
    data_categories: list[str]
    identifiers: list[dict[str, Any]]
    period_start: datetime | None
    period_end: datetime | None
    urgency: str
    emergency_grounds: list[str]
    emergency_justification: str | None
    issuing_judge_or_court: str | None
    order_reference: str | None
    treaty_reference: str | None
    facts: str
    link_to_offence: str
    necessity: str
    proportionality: str
    confidential: bool
    confidentiality_reason: str | None
    language: str
    status: str
    assignee_id: uuid.UUID | None
    priority: int
    counterparty_references: list[str]
    follow_up_request_id: uuid.UUID | None
    channel_reference: str | None
    postponed_until: datetime | None
    notified_enforcing_state: str | None
    issued_without_prior_validation: bool
    transmitted_at: datetime | None
    counterparty_received_at: datetime | None
    validation: dict[str, Any] | None
    enforcing_objection: dict[str, Any] | None
    traffic_disclosures: list[dict[str, Any]]
    urgency_rank: int
    next_due_at: datetime | None
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime
    version: int

    def values(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)


class LockedRequest(msgspec.Struct, kw_only=True):
    """The request an actor acts on, locked, and whether the actor authored it (created or ever submitted it)."""

    row: RequestRow
    by_author: bool


class FollowUpRow(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    reference: str
    direction: str
    status: str
    transmitted_at: datetime | None


def _row(mapping: Any) -> RequestRow:
    return msgspec.convert(dict(mapping), RequestRow)


async def visible(
    session: AsyncSession, actor: Principal, request_id: uuid.UUID, *, for_update: bool
) -> LockedRequest | None:
    """The request if the actor may see it, with whether the actor is its author, in one statement;
    `for_update` locks the row until commit."""
    query = _visible_query(actor.has_any(Role.AUDITOR), actor.has_any(Role.SUPERVISOR), for_update=for_update)
    parameters = {"request_id": request_id, "user_id": actor.user_id, "organisation_id": actor.organisation_id}
    found = (await session.execute(query, parameters)).mappings().first()
    if found is None:
        return None
    columns = {name: value for name, value in found.items() if name != "by_author"}
    return LockedRequest(row=_row(columns), by_author=found["by_author"])


@functools.cache
def _visible_query(auditor: bool, supervisor: bool, *, for_update: bool) -> Select[Any]:
    """`visible`'s statement for actors holding these roles, built once: the actor's ids are parameters."""
    roles = frozenset(role for role, held in ((Role.AUDITOR, auditor), (Role.SUPERVISOR, supervisor)) if held)
    # mla.requests.repository.visible_to itself, given parameters where it takes the viewer's ids.
    viewer = Principal(
        user_id=bindparam("user_id"), organisation_id=bindparam("organisation_id"), roles=roles, email=""
    )  # type: ignore[arg-type]
    submitted = exists().where(
        AuditEvent.request_id == REQUESTS.c.id,
        AuditEvent.action == "submit",  # each submit writes one event
        AuditEvent.actor_id == bindparam("user_id"),
    )
    authored = (REQUESTS.c.created_by == bindparam("user_id")) | submitted
    query = select(REQUESTS, authored.label("by_author")).where(
        REQUESTS.c.id == bindparam("request_id"), visible_to(viewer)
    )
    return query.with_for_update(of=REQUESTS) if for_update else query


async def lock(session: AsyncSession, request_id: uuid.UUID) -> RequestRow:
    """The request, locked until commit, whoever may see it (the worker's actions)."""
    query = select(REQUESTS).where(REQUESTS.c.id == request_id).with_for_update()
    return _row((await session.execute(query)).mappings().one())


async def write(session: AsyncSession, request_id: uuid.UUID, changes: dict[str, Any]) -> None:
    """One UPDATE of the request row with the columns an action changed."""
    await session.execute(update(REQUESTS).where(REQUESTS.c.id == request_id).values(changes))


async def follow_up(session: AsyncSession, request_id: uuid.UUID) -> FollowUpRow | None:
    columns = [REQUESTS.c[name] for name in FollowUpRow.__struct_fields__]
    found = (await session.execute(select(*columns).where(REQUESTS.c.id == request_id))).mappings().first()
    return None if found is None else msgspec.convert(dict(found), FollowUpRow)


async def is_assignable(session: AsyncSession, user_id: uuid.UUID, organisation_ids: set[uuid.UUID]) -> bool:
    """Whether the user is active in one of these organisations and handles requests (`HANDLER_ROLES`):
    an assignee receives the request's alerts, and a confidential request shows to its assignee."""
    users = User.__table__
    query = select(users.c.id).where(
        and_(users.c.id == user_id, users.c.active.is_(True), users.c.organisation_id.in_(organisation_ids)),
        or_(*(role == any_(users.c.roles) for role in sorted(HANDLER_ROLES))),
    )
    return (await session.scalar(query)) is not None
