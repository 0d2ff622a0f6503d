"""Investigation files: created by an organisation, visible to it and to the authorities its requests go to;
edited and closed only by the organisation's own prosecutors and central authority officers."""

import uuid
from typing import Any, NoReturn

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import reads
from mla.audit import service as audit
from mla.cases import repository
from mla.cases.models import Case
from mla.cases.schemas import CaseClose, CaseCreate, CaseOut, CasePatch, CaseSummary
from mla.clock import Clock
from mla.enums import CaseStatus, Role
from mla.errors import Conflict, Forbidden, NotFound, StaleVersion
from mla.pagination import Page
from mla.users.principal import Principal

# Whoever may open a case edits and closes it, in the organisation that owns it.
CASE_EDITORS = (Role.PROSECUTOR, Role.CENTRAL_AUTHORITY)
# A refusal to close names at most this many open requests in its detail (all of them in `open_requests`).
NAMED_IN_DETAIL = 10


def to_out(case: Case) -> CaseOut:
    return msgspec.convert(case, CaseOut, from_attributes=True)


async def create_case(session: AsyncSession, clock: Clock, actor: Principal, data: CaseCreate) -> Case:
    """Refuses a reference the organisation already uses (409)."""
    await _require_free_reference(session, actor.organisation_id, data.reference)
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
        status=CaseStatus.OPEN,
    )
    await _write(session, case)
    await audit.record(
        session, clock, actor, _case_entry(case, "create_case", {"after": msgspec.to_builtins(to_out(case))})
    )
    return case


async def read_case(session: AsyncSession, clock: Clock, actor: Principal, case_id: uuid.UUID) -> Case:
    """A case the caller may see; anything else is 404, whether it exists or not.

    The read is recorded on the case's trail when an auditor or another organisation than the
    owner reads it (mla/audit/reads.py).
    """
    case = await repository.visible_case(session, actor, case_id)
    if case is None:
        raise NotFound("No such case.")
    if reads.is_accountable(actor, case.organisation_id):
        entry = audit.AuditEntry(
            action="read_case", chain=audit.case_chain(case.id), organisation_id=case.organisation_id, case_id=case.id
        )
        await audit.record(session, clock, actor, entry)
    return case


def require_open(case: Case) -> None:
    """Refuse (409) anything that would change a closed case."""
    require_open_status(case.status, f"The case {case.reference!r}")


def require_open_status(status: str, subject: str = "The case") -> None:
    """Refuse (409) a change to, or a request filed into, a case in this status if it is closed."""
    if status == CaseStatus.CLOSED:
        raise Conflict(f"{subject} is closed: it takes no new request and no edit.")


async def update_case(
    session: AsyncSession, clock: Clock, actor: Principal, case_id: uuid.UUID, patch: CasePatch
) -> Case:
    """Edit an open case's reference, title, summary or offences.

    Refuses a case the caller cannot see (404) or sees without owning it (403), a stale version,
    a closed case and a reference the organisation already uses (409).
    """
    case = await _case_to_edit(session, actor, case_id, patch.version)
    changes = {name: value for name, value in msgspec.structs.asdict(patch).items() if value is not msgspec.UNSET}
    del changes["version"]
    if changes.get("reference", case.reference) != case.reference:
        await _require_free_reference(session, case.organisation_id, changes["reference"])
    before = msgspec.to_builtins(to_out(case))
    for name, value in changes.items():
        setattr(case, name, msgspec.to_builtins(value))
    after = msgspec.to_builtins(to_out(case))
    diff = {name: {"before": before[name], "after": after[name]} for name in after if before[name] != after[name]}
    if not diff:
        return case
    case.version += 1
    await _write(session, case)
    await audit.record(session, clock, actor, _case_entry(case, "update_case", diff))
    return case


async def close_case(
    session: AsyncSession, clock: Clock, actor: Principal, case_id: uuid.UUID, data: CaseClose
) -> Case:
    """Close a case whose every request is closed (in a terminal status).

    Refuses what `update_case` refuses, and a case with a request still open (409, naming the
    open requests' references in `open_requests`).
    """
    case = await _case_to_edit(session, actor, case_id, data.version)
    rows = await repository.open_requests(session, actor, case.id)
    if rows:
        _refuse_closing([row.reference for row in rows if row.shown], hidden=any(not row.shown for row in rows))
    case.status, case.closed_at = CaseStatus.CLOSED, clock.now()
    case.version += 1
    changes = {"status": {"before": CaseStatus.OPEN, "after": CaseStatus.CLOSED}, "closed_at": case.closed_at}
    await audit.record(session, clock, actor, _case_entry(case, "close_case", msgspec.to_builtins(changes)))
    return case


def _refuse_closing(open_requests: list[str], *, hidden: bool) -> NoReturn:
    """409 naming the open requests the caller may see; the others (confidential) are only alluded to."""
    named = ", ".join(open_requests[:NAMED_IN_DETAIL])
    more = len(open_requests) - NAMED_IN_DETAIL
    listed = f"{named}{f' and {more} more' if more > 0 else ''}"
    unseen = "requests you may not see" if hidden else ""
    raise Conflict(
        f"The case still has open requests: {' and '.join(part for part in (listed, unseen) if part)}. "
        "Close (withdraw, or see through to the end) each of them first.",
        open_requests=open_requests,
    )


async def _case_to_edit(session: AsyncSession, actor: Principal, case_id: uuid.UUID, version: int) -> Case:
    """The case, locked until the transaction ends, if the caller may change it now."""
    case = await repository.visible_case(session, actor, case_id, for_update=True)
    if case is None:
        raise NotFound("No such case.")
    if case.organisation_id != actor.organisation_id or not actor.has_any(*CASE_EDITORS):
        raise Forbidden("Only the owning organisation's prosecutors and central authority officers change a case.")
    if version != case.version:
        raise StaleVersion(
            f"The case is at version {case.version}, not {version}: reload it and try again.",
            current_version=case.version,
        )
    require_open(case)
    return case


async def _require_free_reference(session: AsyncSession, organisation_id: uuid.UUID, reference: str) -> None:
    if await repository.reference_taken(session, organisation_id, reference):
        raise _reference_taken(reference)


async def _write(session: AsyncSession, case: Case) -> None:
    if not await repository.write_case(session, case):  # a concurrent request took the reference after our check
        raise _reference_taken(case.reference)


def _reference_taken(reference: str) -> Conflict:
    return Conflict(f"Your organisation already has a case {reference!r}.")


def _case_entry(case: Case, action: str, changes: dict[str, Any]) -> audit.AuditEntry:
    return audit.AuditEntry(
        action=action,
        chain=audit.case_chain(case.id),
        organisation_id=case.organisation_id,
        case_id=case.id,
        changes=changes,
    )


async def list_cases(
    session: AsyncSession, clock: Clock, actor: Principal, cursor: str | None, limit: int
) -> Page[CaseSummary]:
    """The cases `read_case` would show, as summaries: own ones and those with a request routed to the caller.

    The read is recorded (one event for the page) when accountable (mla/audit/reads.py).
    """
    page = await repository.summary_page(session, actor, cursor, limit)
    await reads.record_page_read(
        session, clock, actor, "list_cases", page.items, reads.query_of(cursor=cursor, limit=limit)
    )
    return page
