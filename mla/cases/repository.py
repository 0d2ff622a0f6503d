"""Every query on cases, scoped to what the caller's organisation owns or has a request routed to.

A case is read and written as an ORM object: it is edited rarely and as a whole (a patch of any of its
fields, a close), its audit diff is read off the object before and after, and the unit of work then
writes only the columns that changed. The list, the one path read in bulk, is on Core.
"""

import uuid
from typing import NamedTuple

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mla.cases.models import Case
from mla.cases.schemas import CaseSummary
from mla.enums import TERMINAL_STATUSES
from mla.pagination import Page, struct_page
from mla.requests.models import Request
from mla.requests.repository import confidential_allows
from mla.users.principal import Principal


def visible_to(viewer: Principal) -> ColumnElement[bool]:
    """Own cases, and cases with a request routed to this organisation's central authority that the
    viewer may see: a confidential request routes its case to those it shows to, no one else (an
    officer must not learn from the case list that a confidential request was sent to the authority)."""
    organisation_id = viewer.organisation_id
    routed = exists().where(
        Request.case_id == Case.id, Request.central_authority_id == organisation_id, confidential_allows(viewer)
    )
    return or_(Case.organisation_id == organisation_id, routed)


async def visible_case(
    session: AsyncSession, viewer: Principal, case_id: uuid.UUID, *, for_update: bool = False
) -> Case | None:
    """The case if the viewer may see it; `for_update` locks its row (only it) until commit."""
    query = select(Case).where(Case.id == case_id, visible_to(viewer))
    return await session.scalar(query.with_for_update(of=Case) if for_update else query)


async def reference_taken(session: AsyncSession, organisation_id: uuid.UUID, reference: str) -> bool:
    query = select(Case.id).where(Case.organisation_id == organisation_id, Case.reference == reference)
    return await session.scalar(query) is not None


async def write_case(session: AsyncSession, case: Case) -> bool:
    """Write the new or changed case now; False if its reference is the organisation's already (a
    concurrent transaction took it after the caller's check: the transaction is then unusable)."""
    session.add(case)
    try:
        await session.flush()
    except IntegrityError:
        return False
    return True


class OpenRequest(NamedTuple):
    reference: str
    shown: bool  # whether the viewer may see it (a confidential one may not show)


async def open_requests(session: AsyncSession, viewer: Principal, case_id: uuid.UUID) -> list[OpenRequest]:
    """The case's requests not yet in a terminal status, by reference."""
    query = (
        select(Request.reference, confidential_allows(viewer).label("shown"))
        .where(Request.case_id == case_id, Request.status.not_in(TERMINAL_STATUSES))
        .order_by(Request.reference)
    )
    return [OpenRequest(row.reference, row.shown) for row in await session.execute(query)]


async def summary_page(session: AsyncSession, viewer: Principal, cursor: str | None, limit: int) -> Page[CaseSummary]:
    """One page of the cases the viewer sees, newest first."""
    return await struct_page(session, Case.__table__, CaseSummary, cursor, limit, visible_to(viewer))
