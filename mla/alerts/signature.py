"""Webhook signatures: how the tracker signs a delivery and how a receiver verifies it.

Standard library only, so a receiver can import it (`from mla.alerts.signature import
verify_webhook`) or copy this one file. Every delivery is a POST with these headers:

- `X-MLA-Timestamp`: unix seconds when this attempt was signed;
- `X-MLA-Webhook-Id`: the id of the webhook registration it was sent for;
- `Idempotency-Key`: the delivery's id, the same on every retry of the same alert;
- `X-MLA-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with the webhook's secret, of
  `"{timestamp}.{webhook_id}.{idempotency_key}."` followed by the raw body bytes.

A receiver verifies the signature over the raw body before parsing it, refuses a timestamp more
than five minutes away from its clock (a captured request cannot be replayed later), and drops an
`Idempotency-Key` it has already processed (a retry after a lost answer). Because the webhook id
and the delivery id are signed, neither can be swapped to replay a body to another registration
or past the receiver's duplicate check.
"""

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-MLA-Timestamp"
WEBHOOK_ID_HEADER = "X-MLA-Webhook-Id"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
SIGNATURE_HEADER = "X-MLA-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def sign_webhook(secret: str, timestamp: int, webhook_id: str, delivery_id: str, body: bytes) -> str:
    """The `X-MLA-Signature` value for one attempt."""
    signed = f"{timestamp}.{webhook_id}.{delivery_id}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(secret: str, timestamp: int, webhook_id: str, delivery_id: str, body: bytes) -> dict[str, str]:
    """The four headers of a delivery."""
    return {
        TIMESTAMP_HEADER: str(timestamp),
        WEBHOOK_ID_HEADER: webhook_id,
        IDEMPOTENCY_KEY_HEADER: delivery_id,
        SIGNATURE_HEADER: sign_webhook(secret, timestamp, webhook_id, delivery_id, body),
    }


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True if the request's headers sign `body` with `secret` (compared in constant time) and its
    timestamp is within `tolerance_seconds` (five minutes) of `now` (default: this machine's clock).

    `headers` is any mapping of the request's headers (names in any case). A missing or malformed
    header is False, never an exception.
    """
    named = {name.lower(): value for name, value in headers.items()}
    timestamp = named.get(TIMESTAMP_HEADER.lower(), "")
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance_seconds:
        return False
    expected = sign_webhook(
        secret,
        int(timestamp),
        named.get(WEBHOOK_ID_HEADER.lower(), ""),
        named.get(IDEMPOTENCY_KEY_HEADER.lower(), ""),
        body,
    )
    return hmac.compare_digest(expected.encode(), named.get(SIGNATURE_HEADER.lower(), "").encode("utf-8", "replace"))
