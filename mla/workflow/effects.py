"""What an action records on the request besides its status: each effect changes the locked row in
place and returns what it changed for the audit event. The transition table (table.py) names the
effect of each action; `row.updated_at` is already the action's moment."""

from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mla.deadlines import repository as deadlines
from mla.enums import Direction, OrganisationKind
from mla.errors import Conflict, InvalidTransition, Unprocessable
from mla.reference import cache as reference_data
from mla.requests.service import field_error, responsible_authority
from mla.workflow import repository
from mla.workflow.repository import RequestRow
from mla.workflow.schemas import ActionInput

Effect = Callable[[AsyncSession, RequestRow, ActionInput], Awaitable[dict[str, Any]]]

# Budapest art 30: the requested Party discloses traffic data while executing an art 29 request.
TRAFFIC_DISCLOSURE_INSTRUMENTS = frozenset({"budapest-29"})
ENFORCING_REVIEW = "enforcing_review"  # the deadline kind of Reg. 2023/1543 art 12(1)


class NoCentralAuthority(Conflict):
    problem = "no-central-authority"
    title = "No central authority responsible"


class FollowUpNotSent(Conflict):
    problem = "follow-up-not-sent"
    title = "Follow-up request not sent"


async def submit(session: AsyncSession, row: RequestRow, data: ActionInput) -> dict[str, Any]:
    """A submitted request waits for a central authority's review: there must be one to do it."""
    if row.central_authority_id is not None:
        return {}
    owner = (await reference_data.current(session)).organisation(row.organisation_id)
    assert owner is not None  # a foreign key guarantees it
    authority_id = responsible_authority(owner)
    if authority_id is None:
        raise NoCentralAuthority(
            f"{owner.name} has no central authority to review and transmit its requests, so nobody could act on "
            "this one: an administrator links the organisation to its central authority first."
        )
    row.central_authority_id = authority_id  # linked after the draft was filed
    return {"central_authority_id": authority_id}


async def hand_over(session: AsyncSession, row: RequestRow, data: ActionInput) -> dict[str, Any]:
    """An incoming request goes to a domestic prosecution service, which then sees and executes it."""
    known = await reference_data.current(session)
    authority = known.organisation(row.organisation_id)
    assert authority is not None  # a foreign key guarantees it
    service = None if data.organisation_id is None else known.organisation(data.organisation_id)
    if service is None or service.kind != OrganisationKind.PROSECUTION_SERVICE or service.country != authority.country:
        raise Unprocessable(
            f"An incoming request is handed to a prosecution service of {authority.country}.",
            errors=[{"field": "organisation_id", "message": "not a domestic prosecution service"}],
        )
    row.executing_organisation_id = service.id
    return {"executing_organisation_id": service.id, "executing_organisation": service.name}


async def transmit(session: AsyncSession, row: RequestRow, data: ActionInput) -> dict[str, Any]:
    row.channel_reference = data.channel_reference
    row.transmitted_at = row.updated_at
    return {"channel_reference": data.channel_reference}


async def acknowledge(session: AsyncSession, row: RequestRow, data: ActionInput) -> dict[str, Any]:
    """Record when the counterparty received the request, if it said so (the legal start of receipt clocks).

    Refuses a second receipt time (409) and one before the transmission or in the future (422).
    """
    if data.received_at is None:
        return {}
    if row.counterparty_received_at is not None:
        raise InvalidTransition(f"Receipt was already recorded at {row.counterparty_received_at.isoformat()}.")
    received_at = data.received_at.astimezone(UTC)
    earliest = row.transmitted_at
    if received_at > row.updated_at or (earliest is not None and received_at < earliest):
        raise field_error("received_at", "must lie between the transmission and now")
    row.counterparty_received_at = received_at
    return {"counterparty_received_at": received_at}


async def confirm_preserved(session: AsyncSession, row: RequestRow, data: ActionInput) -> dict[str, Any]:
    changes = await acknowledge(session, row, data)
    reference = data.provider_reference
    if reference and reference not in row.counterparty_references:
        row.counterparty_references = [*row.counterparty_references, reference]
    return changes | {"provider_reference": reference}


async def validate(session: AsyncSession, row: RequestRow, data: ActionInput) -> dict[str, Any]:
    """Record the ex-post validation of an emergency order (Reg. 2023/1543 art 4(5)).

    Refuses a request not issued without prior validation, or already validated (409), and a
    validation time in the future or before the order was sent, which it validates ex post (422).
    """
    if not row.issued_without_prior_validation:
        raise InvalidTransition("This order was not issued without prior validation: there is nothing to validate.")
    if row.validation is not None:
        raise InvalidTransition(f"This order was already validated by {row.validation['validated_by']}.")
    assert data.validated_at is not None and data.validated_by is not None  # required by the table
    sent = row.transmitted_at
    if data.validated_at > row.updated_at or (sent is not None and data.validated_at < sent):
        raise field_error("validated_at", "must lie between the transmission and now")
    row.validation = {
        "validated_by": data.validated_by,
        "validated_at": data.validated_at.astimezone(UTC).isoformat(),
        "reference": data.validation_reference,
    }
    return {"validation": row.validation}


async def record_objection(session: AsyncSession, row: RequestRow, data: ActionInput) -> dict[str, Any]:
    """Record the enforcing authority's objection (Reg. 2023/1543 art 12): data deleted or restricted.

    Refuses an order not notified to an enforcing authority, already objected to, or whose review
    period already passed without objection (409).
    """
    if row.notified_enforcing_state is None:
        raise InvalidTransition("This order was not notified to an enforcing authority: no objection can come.")
    if row.enforcing_objection is not None:
        raise InvalidTransition("The enforcing authority's objection is already recorded.")
    if (ended := await deadlines.passed_unanswered(session, row.id, ENFORCING_REVIEW)) is not None:
        raise InvalidTransition(f"The enforcing authority's review ended at {ended.isoformat()} without objection.")
    row.enforcing_objection = {
        "grounds": data.grounds,
        "data_measure": data.data_measure,
        "recorded_at": row.updated_at.isoformat(),
    }
    return {"enforcing_objection": row.enforcing_objection}


async def record_traffic_disclosure(session: AsyncSession, row: RequestRow, data: ActionInput) -> dict[str, Any]:
    """Record traffic data disclosed while the requested state executes a preservation (Budapest art 30).

    Refuses it on a preservation under another instrument (409).
    """
    if row.instrument not in TRAFFIC_DISCLOSURE_INSTRUMENTS:
        raise InvalidTransition(
            "Expedited disclosure of preserved traffic data is an outcome of a Budapest art 29 request only."
        )
    disclosure = {"disclosure": data.disclosure, "recorded_at": row.updated_at.isoformat()}
    row.traffic_disclosures = [*row.traffic_disclosures, disclosure]
    return {"traffic_disclosure": disclosure}


async def postpone(session: AsyncSession, row: RequestRow, data: ActionInput) -> dict[str, Any]:
    row.postponed_until = data.until
    return {"postponed_until": data.until}


async def end_postponement(session: AsyncSession, row: RequestRow, data: ActionInput) -> dict[str, Any]:
    row.postponed_until = None
    return {}


async def supersede(session: AsyncSession, row: RequestRow, data: ActionInput) -> dict[str, Any]:
    wanted = data.follow_up_request_id
    found = None if wanted is None else await repository.follow_up(session, wanted)
    if found is None or found.organisation_id != row.organisation_id or found.id == row.id:
        raise Unprocessable(
            "The follow-up must be another request of the same organisation.",
            errors=[{"field": "follow_up_request_id", "message": "no such request of yours"}],
        )
    _require_sent(found)
    row.follow_up_request_id = found.id
    return {"follow_up_request_id": found.id, "follow_up_reference": found.reference}


def _require_sent(follow_up: repository.FollowUpRow) -> None:
    """Only a follow-up that left us keeps the data preserved (an incoming one arrived, so it counts).

    Reg. 2023/1543 art 11(1) speaks of a production request that was issued, Budapest art 29(7) of
    one that was sent: until then the preservation's expiry keeps running.
    """
    if follow_up.direction == Direction.INCOMING or follow_up.transmitted_at is not None:
        return
    raise FollowUpNotSent(
        f"The follow-up request {follow_up.reference} is {follow_up.status} and was never transmitted: the data "
        "stay preserved until production only once the production request was issued (Reg. 2023/1543 art 11(1)) "
        "or sent (Budapest art 29(7)). Transmit the follow-up first; until then the preservation's expiry runs.",
        follow_up_status=follow_up.status,
    )
