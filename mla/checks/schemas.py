from datetime import datetime
from typing import Literal

import msgspec

from mla.fields import LongText


class AttestationInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    outcome: Literal["pass", "fail"]
    reason: LongText


class CheckOut(msgspec.Struct, kw_only=True):
    code: str
    severity: str
    outcome: str
    explanation: str
    attestable: bool
    attested_by: str | None
    attested_reason: str | None
    attested_at: datetime | None
