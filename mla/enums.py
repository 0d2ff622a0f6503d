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
