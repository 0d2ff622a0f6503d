"""Every table, imported in one place for Alembic and the test database."""

from mla.alerts.models import Alert, Delivery, Notification, Webhook
from mla.audit.models import AuditEvent
from mla.cases.models import Case
from mla.checks.models import Attestation
from mla.communications.models import Communication
from mla.counterparties.models import Counterparty
from mla.db import Base
from mla.deadlines.models import Deadline, DeadlineRule
from mla.instruments.models import Instrument
from mla.organisations.models import Organisation
from mla.productions.models import CustodyEvent, Production
from mla.queue.models import QueueCount, QueueCountMark
from mla.reference.models import reference_data_version
from mla.requests.models import Request
from mla.treaties.models import Treaty, TreatyParty
from mla.users.models import ApiToken, User

__all__ = [
    "Alert",
    "Deadline",
    "DeadlineRule",
    "Delivery",
    "Notification",
    "Webhook",
    "ApiToken",
    "Attestation",
    "AuditEvent",
    "Base",
    "Case",
    "Communication",
    "Counterparty",
    "CustodyEvent",
    "Instrument",
    "Organisation",
    "Production",
    "QueueCount",
    "QueueCountMark",
    "reference_data_version",
    "Request",
    "Treaty",
    "TreatyParty",
    "User",
]
