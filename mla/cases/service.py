"""Investigation files: created by an organisation, visible to it and to the authorities its requests go to."""

import uuid

import msgspec
from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from mla.audit import reads
from mla.audit import service as audit
from mla.cases.models import Case
from mla.cases.schemas import CaseCreate, CaseOut, CaseSummary
from mla.clock import Clock
from mla.errors import Conflict, NotFound
from mla.pagination import Page, fetch_page
from mla.requests.models import Request
from mla.users.principal import Principal


def to_out(case: Case) -> CaseOut:
    return msgspec.convert(case, CaseOut, from_attributes=True)


def visible_cases(organisation_id: uuid.UUID):  # type: ignore[no-untyped-def]
    """Own cases, and cases with a request routed to this organisation's central authority."""
    routed = exists().where(Request.case_id == Case.id, Request.central_authority_id == organisation_id)
    return or_(Case.organisation_id == organisation_id, routed)


async def create_case(session: AsyncSession, clock: Clock, actor: Principal, data: CaseCreate) -> Case:
    """Refuses a reference the organisation already uses (409)."""
    duplicate = select(Case.id).where(Case.organisation_id == actor.organisation_id, Case.reference == data.reference)
    if await session.scalar(duplicate) is not None:
        raise Conflict(f"Your organisation already has a case {data.reference!r}.")
    case = Case(
        id=uuid.uuid4(),
        organisation_id=actor.organisation_id,
        reference=data.reference,
        title=data.title,
        summary=data.summary or "",
        offences=msgspec.to_builtins(data.offences),
        created_by=actor.user_id,
        created_at=clock.now(),
        version=1,
    )
    session.add(case)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request took the reference after our check
        raise Conflict(f"Your organisation already has a case {data.reference!r}.") from exc
    await audit.record(
        session,
        clock,
        actor,
        audit.AuditEntry(
            action="create_case",
            chain=audit.case_chain(case.id),
            organisation_id=case.organisation_id,
            case_id=case.id,
            changes={"after": msgspec.to_builtins(to_out(case))},
        ),
    )
    return case


async def read_case(session: AsyncSession, clock: Clock, actor: Principal, case_id: uuid.UUID) -> Case:
    """A case the caller may see; anything else is 404, whether it exists or not.

    The read is recorded on the case's trail when an auditor or another organisation than the
    owner reads it (mla/audit/reads.py).
    """
    case = await session.scalar(select(Case).where(Case.id == case_id, visible_cases(actor.organisation_id)))
    if case is None:
        raise NotFound("No such case.")
    if reads.is_accountable(actor, case.organisation_id):
        entry = audit.AuditEntry(
            action="read_case", chain=audit.case_chain(case.id), organisation_id=case.organisation_id, case_id=case.id
        )
        await audit.record(session, clock, actor, entry)
    return case


async def get_own_case(session: AsyncSession, actor: Principal, case_id: uuid.UUID) -> Case | None:
    return await session.scalar(select(Case).where(Case.id == case_id, Case.organisation_id == actor.organisation_id))


def to_summary(case: Case) -> CaseSummary:
    return msgspec.convert(case, CaseSummary, from_attributes=True)


async def list_cases(
    session: AsyncSession, clock: Clock, actor: Principal, cursor: str | None, limit: int
) -> Page[CaseSummary]:
    """The cases `read_case` would show, as summaries: own ones and those with a request routed to the caller.

    The read is recorded (one event for the page) when accountable (mla/audit/reads.py).
    """
    columns = [getattr(Case, name) for name in CaseSummary.__struct_fields__]
    query = select(Case).where(visible_cases(actor.organisation_id)).options(load_only(*columns, raiseload=True))
    page = await fetch_page(session, query, Case, cursor, limit, to_summary)
    await reads.record_page_read(
        session, clock, actor, "list_cases", page.items, reads.query_of(cursor=cursor, limit=limit)
    )
    return page
