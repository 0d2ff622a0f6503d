"""Webhook signatures and the retry schedule: pure functions, no database."""

import hashlib
import hmac
import time
from datetime import timedelta

import pytest

from mla.alerts.delivery import MAX_ATTEMPTS, backoff
from mla.alerts.signature import sign_webhook, signed_headers, verify_webhook

SECRET = "a-shared-secret-of-32-characters"
BODY = b'{"event":"deadline_alert","stage":"overdue"}'
TIMESTAMP = 1_793_610_000
WEBHOOK_ID = "6f1c1d2e-0000-4000-8000-000000000001"
DELIVERY_ID = "9a8b7c6d-0000-4000-8000-000000000002"


def headers(timestamp: int = TIMESTAMP, **changes: str) -> dict[str, str]:
    return signed_headers(SECRET, timestamp, WEBHOOK_ID, DELIVERY_ID, BODY) | changes


def test_the_signature_covers_timestamp_webhook_id_delivery_id_and_body() -> None:
    signed = f"{TIMESTAMP}.{WEBHOOK_ID}.{DELIVERY_ID}.".encode() + BODY
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()

    assert sign_webhook(SECRET, TIMESTAMP, WEBHOOK_ID, DELIVERY_ID, BODY) == f"sha256={expected}"
    assert headers() == {
        "X-MLA-Timestamp": str(TIMESTAMP),
        "X-MLA-Webhook-Id": WEBHOOK_ID,
        "Idempotency-Key": DELIVERY_ID,
        "X-MLA-Signature": f"sha256={expected}",
    }


def test_a_delivery_signed_with_the_secret_verifies_whatever_the_case_of_the_header_names() -> None:
    lower = {name.lower(): value for name, value in headers().items()}

    assert verify_webhook(SECRET, headers(), BODY, now=TIMESTAMP)
    assert verify_webhook(SECRET, lower, BODY, now=TIMESTAMP)


def test_a_delivery_signed_with_another_secret_does_not_verify() -> None:
    assert not verify_webhook("another-secret-of-enough-length", headers(), BODY, now=TIMESTAMP)


@pytest.mark.parametrize(
    "changed",
    [
        {"X-MLA-Webhook-Id": "6f1c1d2e-0000-4000-8000-000000000099"},  # replayed to another registration
        {"Idempotency-Key": "9a8b7c6d-0000-4000-8000-000000000099"},  # replayed past the duplicate check
        {"X-MLA-Timestamp": str(TIMESTAMP + 1)},
    ],
)
def test_a_changed_webhook_id_delivery_id_or_timestamp_does_not_verify(changed: dict[str, str]) -> None:
    assert not verify_webhook(SECRET, headers(**changed), BODY, now=TIMESTAMP)


def test_a_changed_body_does_not_verify() -> None:
    assert not verify_webhook(SECRET, headers(), BODY.replace(b"overdue", b"reminder"), now=TIMESTAMP)


@pytest.mark.parametrize(
    "changed",
    [
        {"X-MLA-Signature": ""},
        {"X-MLA-Signature": "sha256="},
        {"X-MLA-Signature": "sha256=zz"},
        {"X-MLA-Signature": "sha256=ünïcode"},
        {"X-MLA-Timestamp": ""},
        {"X-MLA-Timestamp": "-5"},
        {"X-MLA-Timestamp": "１２３"},  # full-width digits: digits to str.isdigit
    ],
)
def test_garbage_headers_are_refused_without_raising(changed: dict[str, str]) -> None:
    assert not verify_webhook(SECRET, headers(**changed), BODY, now=TIMESTAMP)


def test_missing_headers_are_refused() -> None:
    for missing in headers():
        assert not verify_webhook(SECRET, {k: v for k, v in headers().items() if k != missing}, BODY, now=TIMESTAMP)


def test_a_timestamp_more_than_five_minutes_away_is_refused() -> None:
    assert verify_webhook(SECRET, headers(), BODY, now=TIMESTAMP + 299)
    assert not verify_webhook(SECRET, headers(), BODY, now=TIMESTAMP + 301)
    assert not verify_webhook(SECRET, headers(), BODY, now=TIMESTAMP - 301)


def test_by_default_the_receivers_own_clock_refuses_an_old_delivery() -> None:
    now = int(time.time())

    assert verify_webhook(SECRET, headers(now), BODY)
    assert not verify_webhook(SECRET, headers(now - 6 * 60), BODY)
    assert verify_webhook(SECRET, headers(now - 6 * 60), BODY, tolerance_seconds=600)


def test_backoff_doubles_from_one_minute_and_stops_at_an_hour() -> None:
    waits = [backoff(attempts) for attempts in range(1, MAX_ATTEMPTS + 1)]

    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]
