"""The closed vocabularies of the domain (SPEC §4, §5), shared by models, schemas and rules."""

from enum import StrEnum


class OrganisationKind(StrEnum):
    PROSECUTION_SERVICE = "prosecution_service"
    CENTRAL_AUTHORITY = "central_authority"
    LAW_ENFORCEMENT = "law_enforcement"
    COURT = "court"


class Role(StrEnum):
    PROSECUTOR = "prosecutor"
    CENTRAL_AUTHORITY = "central_authority"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"  # administers its own organisation: its users, roles, API tokens, webhooks
    # Administers the installation (organisations, catalogue, rules); holds no case role, reads no case data.
    PLATFORM_ADMIN = "platform_admin"


class CounterpartyKind(StrEnum):
    STATE = "state"
    PROVIDER = "provider"


class Direction(StrEnum):
    """The one direction vocabulary of the API's answers: requests and communications alike."""

    OUTGOING = "outgoing"
    INCOMING = "incoming"


class DirectionGiven(StrEnum):
    """A direction as a communication may be recorded: `sent` and `received` (the words used
    before) are still accepted and stored as `outgoing` and `incoming` (README "Decisions")."""

    OUTGOING = "outgoing"
    INCOMING = "incoming"
    SENT = "sent"
    RECEIVED = "received"

    @property
    def canonical(self) -> Direction:
        return _CANONICAL_DIRECTION[self]


_CANONICAL_DIRECTION = {
    DirectionGiven.OUTGOING: Direction.OUTGOING,
    DirectionGiven.SENT: Direction.OUTGOING,
    DirectionGiven.INCOMING: Direction.INCOMING,
    DirectionGiven.RECEIVED: Direction.INCOMING,
}


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # every request of it closed; takes no new request and no edit


class RequestType(StrEnum):
    MLA = "mla"
    PRESERVATION = "preservation"
    PRODUCTION = "production"
    SUBSCRIBER_INFO = "subscriber_info"
    DOMAIN_REGISTRATION = "domain_registration"
    EMERGENCY_DISCLOSURE = "emergency_disclosure"
    TRAFFIC_DISCLOSURE = "traffic_disclosure"


class DataCategory(StrEnum):
    SUBSCRIBER = "subscriber"
    IP_IDENTIFICATION = "ip_identification"
    TRAFFIC = "traffic"
    CONTENT = "content"


class IdentifierKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    IP = "ip"
    ACCOUNT = "account"
    DOMAIN = "domain"
    URL = "url"
    IMEI = "imei"
    OTHER = "other"


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class EmergencyGround(StrEnum):
    """Why a request is an emergency: an imminent risk to a person (or, under Reg. 2023/1543 art
    3(18), to critical infrastructure). `loss_of_evidence` is accepted so the check can say that it
    makes a request urgent, not an emergency."""

    LIFE = "life"
    PHYSICAL_INTEGRITY = "physical_integrity"
    SAFETY = "safety"
    CRITICAL_INFRASTRUCTURE = "critical_infrastructure"
    LOSS_OF_EVIDENCE = "loss_of_evidence"


class RequestStatus(StrEnum):
    DRAFT = "draft"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    TRANSMITTED = "transmitted"
    ACKNOWLEDGED = "acknowledged"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    AWAITING_CLARIFICATION = "awaiting_clarification"
    POSTPONED = "postponed"
    PRESERVED = "preserved"
    # incoming
    RECEIVED = "received"
    IN_EXECUTION = "in_execution"
    # terminal
    FULFILLED = "fulfilled"
    REFUSED = "refused"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


TERMINAL_STATUSES = frozenset(
    {
        RequestStatus.FULFILLED,
        RequestStatus.REFUSED,
        RequestStatus.REJECTED,
        RequestStatus.WITHDRAWN,
        RequestStatus.EXPIRED,
    }
)

# The queue shows emergencies first, then urgent, then routine requests.
URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}


class DeadlineStatus(StrEnum):
    """Where a clock stands (the values stored in `deadlines.status`)."""

    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    CANCELLED = "cancelled"


class ClockEffect(StrEnum):
    """What a workflow action does to a request's running clocks, besides the rules it opens
    (`DeadlineRule.opens_on`) and meets (`meets_on`); a move to a closed status cancels the rest."""

    PAUSE = "pause"  # clocks waiting on the other side stop while it awaits our clarification
    RESUME = "resume"  # paused clocks run on, keeping the time they had left
    POSTPONE = "postpone"  # clocks waiting on the other side keep their time left until the postponement ends
    END_POSTPONEMENT = "end_postponement"  # postponed clocks run on from now if the postponement ends early
    EXTEND = "extend"  # the running preservation expiry is met and its extension opens
    LAPSE = "lapse"  # clocks that lapse the request are missed
    CONFIRM = "confirm"  # a preservation confirmed after its expiry passed preserved nothing: refused


class CheckGate(StrEnum):
    """Whether a workflow action runs the legality checks (mla/checks) and what it does with them."""

    NONE = "none"
    RECORD = "record"  # evaluated and recorded in the action's audit event
    BLOCK = "block"  # recorded, and the action is refused (409) while a blocking check fails


class Action(StrEnum):
    """A workflow action; the transition table (mla/workflow/table.py) says what each does."""

    # outgoing, our side
    SUBMIT = "submit"
    APPROVE = "approve"
    RETURN = "return"
    REJECT = "reject"
    TRANSMIT = "transmit"
    # outgoing, recording the counterparty
    ACKNOWLEDGE = "acknowledge"
    RECORD_PARTIAL = "record_partial"
    FULFIL = "fulfil"
    REFUSE = "refuse"
    REQUEST_CLARIFICATION = "request_clarification"
    PROVIDE_CLARIFICATION = "provide_clarification"
    POSTPONE = "postpone"
    RESUME = "resume"
    # outgoing preservation
    CONFIRM_PRESERVED = "confirm_preserved"
    EXTEND = "extend"
    LAPSE = "lapse"
    SUPERSEDE = "supersede"
    # outgoing, facts recorded after transmission (the status stays)
    VALIDATE = "validate"
    RECORD_OBJECTION = "record_objection"
    RECORD_TRAFFIC_DISCLOSURE = "record_traffic_disclosure"
    # both directions
    WITHDRAW = "withdraw"
    # incoming
    ACCEPT = "accept"
    EXECUTE = "execute"
    REQUEST_MORE_INFO = "request_more_info"
    HAND_OVER = "hand_over"
