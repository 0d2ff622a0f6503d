import uuid
from typing import Annotated, Literal

import msgspec

from mla.enums import RequestStatus
from mla.fields import AwareDatetime, LongText, ShortText, at_field, check_moment
from mla.requests.schemas import CounterpartyReference  # NUL refused

ExtensionDays = Annotated[int, msgspec.Meta(ge=1, le=3650)]


class ActionInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The body of `POST /requests/{id}/actions/{action}`; which fields an action needs is in the table."""

    version: Annotated[int, msgspec.Meta(ge=1)] | None = None
    reason: LongText | None = None
    grounds: LongText | None = None
    until: AwareDatetime | None = None
    channel_reference: ShortText | None = None
    provider_reference: CounterpartyReference | None = None  # joins the request's counterparty_references
    days: ExtensionDays | None = None
    follow_up_request_id: uuid.UUID | None = None
    received_at: AwareDatetime | None = None  # the counterparty's receipt: receipt clocks restart from it
    validated_by: ShortText | None = None  # who validated an emergency order (Reg. 2023/1543 art 4(5))
    validated_at: AwareDatetime | None = None
    validation_reference: ShortText | None = None
    # What the enforcing authority's objection (art 12) means for data already received.
    data_measure: Literal["delete", "restrict"] | None = None
    disclosure: LongText | None = None  # traffic data disclosed under Budapest art 30: provider, path
    organisation_id: uuid.UUID | None = None  # hand_over: the domestic prosecution service that executes

    def __post_init__(self) -> None:
        for name in ("until", "received_at", "validated_at"):
            if (moment := getattr(self, name)) is not None:
                with at_field(name):
                    setattr(self, name, check_moment(moment))


class AssignInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    user_id: uuid.UUID | None
    version: Annotated[int, msgspec.Meta(ge=1)] | None = None


class ActionFieldOut(msgspec.Struct, kw_only=True):
    name: str
    required: bool
    kind: str


class AvailableAction(msgspec.Struct, kw_only=True):
    action: str
    to_status: RequestStatus
    fields: list[ActionFieldOut]
