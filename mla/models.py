"""Every table, imported in one place for Alembic and the test database."""

from mla.audit.models import AuditEvent
from mla.cases.models import Case
from mla.counterparties.models import Counterparty
from mla.db import Base
from mla.instruments.models import Instrument
from mla.organisations.models import Organisation
from mla.requests.models import Request
from mla.users.models import ApiToken, User

__all__ = ["ApiToken", "AuditEvent", "Base", "Case", "Counterparty", "Instrument", "Organisation", "Request", "User"]
