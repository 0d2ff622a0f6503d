import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from mla.enums import DataCategory, Direction, EmergencyGround, RequestStatus, RequestType, Urgency
from mla.fields import (
    AwareDatetime,
    FieldError,
    Identifier,
    LanguageCode,
    LongText,
    at_field,
    check_country,
    check_moment,
    check_period,
)

Statement = Annotated[str, msgspec.Meta(max_length=20_000, pattern=r"\A[^\x00]*\Z")]
CounterpartyReference = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\A[^\x00]*\Z")]
DataCategories = Annotated[list[DataCategory], msgspec.Meta(min_length=1, max_length=len(DataCategory))]
Identifiers = Annotated[list[Identifier], msgspec.Meta(max_length=1000)]
CounterpartyReferences = Annotated[list[CounterpartyReference], msgspec.Meta(max_length=50)]
Priority = Annotated[int, msgspec.Meta(ge=0, le=9)]
Version = Annotated[int, msgspec.Meta(ge=1)]
WITHOUT_VALIDATION_NEEDS_EMERGENCY = "only an order issued in an emergency may go without prior validation (art 4(5))"
NOT_BLANK = r"\A(?!\s*\Z)[^\x00]*\Z"  # as mla.fields' texts: something besides blanks, never NUL
EmergencyGrounds = Annotated[
    list[EmergencyGround],
    msgspec.Meta(
        max_length=len(EmergencyGround),
        description="Why an `emergency` is one: an imminent risk to the life, physical integrity or safety of a "
        "person, or (Reg. 2023/1543 art 3(18) only) to critical infrastructure. A risk of losing evidence makes a "
        "request `urgent`, not an emergency: the `emergency_justified` check says so.",
    ),
]
IssuingJudgeOrCourt = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=200,
        pattern=NOT_BLANK,
        description="The judge or court that issued the order or validated it (Reg. 2023/1543 art 4(2): required "
        "for a European Production Order for traffic or content data).",
    ),
]
OrderReference = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=200,
        pattern=NOT_BLANK,
        description="The reference of the issuing or validating order.",
    ),
]
TreatyReference = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=300,
        pattern=NOT_BLANK,
        description="The specific treaty and article the request rests on, where the instrument is a generic "
        "one (`mlat`): e.g. 'Treaty on Mutual Legal Assistance in Criminal Matters DE-US of 14 October 2003, art 1'.",
    ),
]
CONFIDENTIAL = (
    "Confidential (no disclosure to the data subject). A confidential request is hidden (404, and left out of "
    "lists, the queue, exports and statistics) from everyone except: its creator and its assignee; the "
    "supervisors of the responsible central authority; and auditors of the organisations that see it, whose "
    "every read is itself audited. Other prosecutors of the owner, officers of the central authority who are not "
    "assigned, and a prosecution service executing an incoming request (unless its user is the assignee) do "
    "not see it. Its clocks remind the authority's supervisors instead of every officer while it is unassigned."
)
Confidential = Annotated[bool, msgspec.Meta(description=CONFIDENTIAL)]


def _check_request_rules(data: "RequestCreate | RequestPatch") -> None:
    for name in ("period_start", "period_end"):
        if isinstance(moment := getattr(data, name), datetime):
            with at_field(name):
                setattr(data, name, check_moment(moment))
    if isinstance(data.period_start, datetime) and isinstance(data.period_end, datetime):
        check_period(data.period_start, data.period_end)
    # A PATCH may rely on the reason already stored: the service checks the combination.
    if isinstance(data, RequestCreate) and data.confidential and not data.confidentiality_reason:
        raise FieldError("confidentiality_reason", "`confidentiality_reason` is required when `confidential` is true")
    if isinstance(data.data_categories, list):
        data.data_categories = sorted(set(data.data_categories))
    if isinstance(data.notified_enforcing_state, str):
        with at_field("notified_enforcing_state"):
            data.notified_enforcing_state = check_country(data.notified_enforcing_state)
    # A PATCH may change one of the two: the service checks the combination.
    if isinstance(data, RequestCreate) and data.issued_without_prior_validation and data.urgency != Urgency.EMERGENCY:
        raise FieldError("issued_without_prior_validation", WITHOUT_VALIDATION_NEEDS_EMERGENCY)
    if isinstance(data.emergency_grounds, list):
        data.emergency_grounds = sorted(set(data.emergency_grounds))


class RequestCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new request: a draft (outgoing) or a received request recorded by a central authority."""

    case_id: uuid.UUID
    direction: Direction
    type: RequestType
    target_id: uuid.UUID
    instrument: Annotated[str, msgspec.Meta(max_length=32)]
    data_categories: DataCategories
    identifiers: Identifiers = []
    period_start: AwareDatetime | None = None
    period_end: AwareDatetime | None = None
    urgency: Urgency = Urgency.ROUTINE
    emergency_grounds: EmergencyGrounds = []
    emergency_justification: LongText | None = None
    issuing_judge_or_court: IssuingJudgeOrCourt | None = None
    order_reference: OrderReference | None = None
    treaty_reference: TreatyReference | None = None
    facts: Statement = ""
    link_to_offence: Statement = ""
    necessity: Statement = ""
    proportionality: Statement = ""
    confidential: Confidential = False
    confidentiality_reason: LongText | None = None
    language: LanguageCode = "en"
    priority: Priority = 0
    counterparty_references: CounterpartyReferences = []
    # EPOC (Reg. 2023/1543 art 8): the state whose enforcing authority the order was notified to.
    notified_enforcing_state: str | None = None
    # Art 4(5): issued in an emergency without the prior validation the issuer needs (a 48-hour clock).
    issued_without_prior_validation: bool = False

    def __post_init__(self) -> None:
        _check_request_rules(self)


class RequestPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes to a request; `version` (or an If-Match header) must be the one last read."""

    version: Version | msgspec.UnsetType = msgspec.UNSET
    target_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    instrument: Annotated[str, msgspec.Meta(max_length=32)] | msgspec.UnsetType = msgspec.UNSET
    data_categories: DataCategories | msgspec.UnsetType = msgspec.UNSET
    identifiers: Identifiers | msgspec.UnsetType = msgspec.UNSET
    period_start: AwareDatetime | None | msgspec.UnsetType = msgspec.UNSET
    period_end: AwareDatetime | None | msgspec.UnsetType = msgspec.UNSET
    urgency: Urgency | msgspec.UnsetType = msgspec.UNSET
    emergency_grounds: EmergencyGrounds | msgspec.UnsetType = msgspec.UNSET
    emergency_justification: LongText | None | msgspec.UnsetType = msgspec.UNSET
    issuing_judge_or_court: IssuingJudgeOrCourt | None | msgspec.UnsetType = msgspec.UNSET
    order_reference: OrderReference | None | msgspec.UnsetType = msgspec.UNSET
    treaty_reference: TreatyReference | None | msgspec.UnsetType = msgspec.UNSET
    facts: Statement | msgspec.UnsetType = msgspec.UNSET
    link_to_offence: Statement | msgspec.UnsetType = msgspec.UNSET
    necessity: Statement | msgspec.UnsetType = msgspec.UNSET
    proportionality: Statement | msgspec.UnsetType = msgspec.UNSET
    confidential: Confidential | msgspec.UnsetType = msgspec.UNSET
    confidentiality_reason: LongText | None | msgspec.UnsetType = msgspec.UNSET
    language: LanguageCode | msgspec.UnsetType = msgspec.UNSET
    priority: Priority | msgspec.UnsetType = msgspec.UNSET
    counterparty_references: CounterpartyReferences | msgspec.UnsetType = msgspec.UNSET
    notified_enforcing_state: str | None | msgspec.UnsetType = msgspec.UNSET
    issued_without_prior_validation: bool | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        _check_request_rules(self)


class IdentifierOut(msgspec.Struct, kw_only=True):
    kind: str
    value: str
    from_: str | None = msgspec.field(default=None, name="from")
    to: str | None = None


class ValidationOut(msgspec.Struct, kw_only=True):
    """Ex-post validation of an emergency order (Reg. 2023/1543 art 4(5)), recorded by `validate`."""

    validated_by: str
    validated_at: datetime
    reference: str | None


class ObjectionOut(msgspec.Struct, kw_only=True):
    """The enforcing authority's objection (art 12), recorded by `record_objection`."""

    grounds: str
    data_measure: str  # "delete" or "restrict": what must happen to data already received
    recorded_at: datetime


class TrafficDisclosureOut(msgspec.Struct, kw_only=True):
    """Traffic data disclosed while the requested state executed a preservation (Budapest art 30)."""

    disclosure: str
    recorded_at: datetime


class RequestSummary(msgspec.Struct, kw_only=True):
    """A request as lists show it: everything but its statements, identifiers and other long texts.

    A full request may carry ~700 KB (four statements, a justification and a reason of 20,000
    characters each, 1,000 identifiers); a summary stays a few KB, so a page of 200 does too.
    The full body is on `GET /requests/{id}`.
    """

    id: uuid.UUID
    reference: str
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    central_authority_id: uuid.UUID | None
    executing_organisation_id: uuid.UUID | None
    direction: Direction
    type: RequestType
    target_id: uuid.UUID
    instrument: str
    data_categories: list[DataCategory]
    period_start: datetime | None
    period_end: datetime | None
    urgency: Urgency
    emergency_grounds: list[EmergencyGround]
    issuing_judge_or_court: str | None
    order_reference: str | None
    treaty_reference: str | None
    confidential: Confidential
    language: str
    status: RequestStatus
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
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime
    version: int


class RequestOut(RequestSummary, kw_only=True):
    """A whole request, as the item route and every write answer it."""

    identifiers: list[IdentifierOut]
    emergency_justification: str | None
    facts: str
    link_to_offence: str
    necessity: str
    proportionality: str
    confidentiality_reason: str | None
    validation: ValidationOut | None
    enforcing_objection: ObjectionOut | None
    traffic_disclosures: list[TrafficDisclosureOut]
