"""What the alerts API reads and answers: webhooks, deliveries, notifications.

A webhook's secret goes in and never comes out: no answer carries it and its repr hides it.
"""

import enum
import urllib.parse
import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from mla.enums import IdentifierKind
from mla.fields import at_field, check_identifier

WebhookSecret = Annotated[
    str,
    msgspec.Meta(
        min_length=16,
        max_length=200,
        pattern=r"\A[^\x00]*\Z",
        description="Shared secret of 16 to 200 characters that signs every delivery (HMAC-SHA256). Never shown.",
    ),
]


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


def check_webhook_url(value: str) -> str:
    """An http(s) URL with a valid host, normalised; refuses credentials in the URL (use the secret)."""
    try:
        url = check_identifier(IdentifierKind.URL, value)
    except ValueError as exc:
        raise ValueError(str(exc).replace("invalid url identifier", "invalid URL", 1)) from None
    if "@" in urllib.parse.urlsplit(url).netloc:
        raise ValueError("the URL must not carry credentials; deliveries are authenticated by the signature")
    return url


class WebhookCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(max_length=500, examples=["https://alerts.example.org/mla"])]
    secret: WebhookSecret
    organisation_id: uuid.UUID

    def __post_init__(self) -> None:
        with at_field("url"):
            self.url = check_webhook_url(self.url)

    def __repr__(self) -> str:  # never print the secret
        return f"WebhookCreate(url={self.url!r}, organisation_id={self.organisation_id!r}, secret=***)"


class WebhookOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    url: str
    active: bool
    created_at: datetime


class DeliveryOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    alert_id: uuid.UUID
    stage: str
    channel: str
    # An e-mail address, or the webhook's id for webhook deliveries.
    recipient: str
    webhook_id: uuid.UUID | None
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None
    created_at: datetime


class NotificationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    request_id: uuid.UUID
    alert_id: uuid.UUID
    stage: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
    read: bool
