"""Webhook signatures and the retry schedule: pure functions, no database."""

import hashlib
import hmac
from datetime import timedelta

from mla.alerts.delivery import MAX_ATTEMPTS, backoff, sign_webhook, verify_webhook_signature

SECRET = "a-shared-secret-of-32-characters"
BODY = b'{"event":"deadline_alert","stage":"overdue"}'
TIMESTAMP = 1_793_610_000


def test_the_signature_is_the_hmac_sha256_of_timestamp_dot_body_with_the_secret() -> None:
    expected = hmac.new(SECRET.encode(), f"{TIMESTAMP}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert sign_webhook(SECRET, TIMESTAMP, BODY) == f"sha256={expected}"


def test_a_signature_made_with_the_secret_verifies() -> None:
    assert verify_webhook_signature(SECRET, TIMESTAMP, BODY, sign_webhook(SECRET, TIMESTAMP, BODY))


def test_a_signature_made_with_another_secret_does_not_verify() -> None:
    forged = sign_webhook("another-secret-of-enough-length", TIMESTAMP, BODY)

    assert not verify_webhook_signature(SECRET, TIMESTAMP, BODY, forged)


def test_a_changed_body_or_timestamp_does_not_verify() -> None:
    signature = sign_webhook(SECRET, TIMESTAMP, BODY)

    assert not verify_webhook_signature(SECRET, TIMESTAMP, BODY.replace(b"overdue", b"reminder"), signature)
    assert not verify_webhook_signature(SECRET, TIMESTAMP + 1, BODY, signature)


def test_garbage_signatures_are_refused_without_raising() -> None:
    for signature in ("", "sha256=", "sha256=zz", "sha256=ünïcode", sign_webhook(SECRET, TIMESTAMP, BODY)[:-1]):
        assert not verify_webhook_signature(SECRET, TIMESTAMP, BODY, signature)


def test_a_receiver_giving_the_time_refuses_an_old_timestamp() -> None:
    signature = sign_webhook(SECRET, TIMESTAMP, BODY)

    assert verify_webhook_signature(SECRET, TIMESTAMP, BODY, signature, now=TIMESTAMP + 299)
    assert not verify_webhook_signature(SECRET, TIMESTAMP, BODY, signature, now=TIMESTAMP + 301)
    assert not verify_webhook_signature(SECRET, TIMESTAMP, BODY, signature, now=TIMESTAMP - 301)


def test_backoff_doubles_from_one_minute_and_stops_at_an_hour() -> None:
    waits = [backoff(attempts) for attempts in range(1, MAX_ATTEMPTS + 1)]

    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]
