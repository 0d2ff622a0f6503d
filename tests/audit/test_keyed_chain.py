"""The keyed chain without a database: HMAC links, key rotation, and what events without a key may do."""

from types import SimpleNamespace

import pytest

from mla.audit.chain import ChainVerdict, ChainWalk, Head, legacy_hash, seal
from mla.audit.keys import AuditKeyring
from mla.settings import Settings
from tests.conftest import START_OF_TESTS

SECRET_1 = "first-audit-key-" + "1" * 32
SECRET_2 = "second-audit-key-" + "2" * 32


def keyring(audit_keys: str, current: str = "") -> AuditKeyring:
    return AuditKeyring.from_settings(Settings(audit_keys=audit_keys, audit_current_key=current))


KEY_1 = keyring(f"k1:{SECRET_1}")


def event(seq: int, previous: SimpleNamespace | None) -> SimpleNamespace:
    return SimpleNamespace(
        chain="request:test", seq=seq, at=START_OF_TESTS, actor_id=None, actor_roles=["system"],
        organisation_id=None, request_id=None, case_id=None, action="note", from_status=None, to_status=None,
        changes={"n": seq}, checks=None, reason=None, prev_hash=None if previous is None else previous.hash,
        key_id=None, hash="",
    )  # fmt: skip


def append(events: list[SimpleNamespace], keys: AuditKeyring | None) -> list[SimpleNamespace]:
    """One more event, keyed with `keys`' current key, or a legacy one (unkeyed SHA-256) if None."""
    new = event(len(events) + 1, events[-1] if events else None)
    if keys is None:
        new.hash = legacy_hash(new)
    else:
        seal(new, keys)
    return [*events, new]


def build(*keys: AuditKeyring | None) -> list[SimpleNamespace]:
    events: list[SimpleNamespace] = []
    for key in keys:
        events = append(events, key)
    return events


def walk(events: list[SimpleNamespace], keys: AuditKeyring, checkpoint: Head | None = None) -> ChainVerdict:
    chain = ChainWalk("request:test", keys, checkpoint)
    for item in events:
        chain.feed(item)
    return chain.verdict()


def head(events: list[SimpleNamespace]) -> Head:
    return Head(len(events), events[-1].hash, "2026-11-02T09:00:00+00:00")


def test_a_keyed_chain_verifies_only_with_its_key() -> None:
    events = build(KEY_1, KEY_1, KEY_1)

    assert walk(events, KEY_1).valid
    stranger = walk(events, keyring(f"k1:{'x' * 40}"))
    assert (stranger.valid, stranger.first_broken_seq) == (False, 1)
    assert stranger.problem == "event 1 was rewritten: its hash does not match it"


def test_a_rotated_key_keeps_older_events_valid_while_it_is_listed() -> None:
    both = keyring(f"k1:{SECRET_1},k2:{SECRET_2}", current="k2")
    events = build(KEY_1, KEY_1, both, both)

    assert [e.key_id for e in events] == ["k1", "k1", "k2", "k2"]
    assert walk(events, both).valid
    dropped = walk(events, keyring(f"k2:{SECRET_2}"))
    assert (dropped.first_broken_seq, dropped.problem) == (1, "event 1 is keyed with unknown key 'k1'")


def test_events_without_a_key_before_a_keyed_one_are_pinned_by_its_hmac() -> None:
    events = build(None, None, KEY_1)
    assert walk(events, KEY_1).valid

    events[0].reason = "rewritten"  # and every unkeyed hash after it recomputed by the attacker
    events[0].hash = legacy_hash(events[0])
    events[1].prev_hash = events[0].hash
    events[1].hash = legacy_hash(events[1])
    events[2].prev_hash = events[1].hash
    verdict = walk(events, KEY_1)
    assert (verdict.first_broken_seq, verdict.problem) == (3, "event 3 was rewritten: its hash does not match it")


def test_events_without_a_key_at_the_end_need_a_signed_checkpoint() -> None:
    events = build(None, None)

    unsealed = walk(events, KEY_1)
    assert (unsealed.first_broken_seq, unsealed.problem) == (
        1,
        "event 1 carries no key and no signed checkpoint covers it",
    )
    assert walk(events, KEY_1, head(events)).valid
    appended = walk(append(events, None), KEY_1, head(events))
    assert (appended.first_broken_seq, appended.problem) == (
        3,
        "event 3 carries no key and no signed checkpoint covers it",
    )


def test_an_event_without_a_key_after_a_keyed_one_is_refused() -> None:
    verdict = walk(build(KEY_1, None), KEY_1)
    assert (verdict.first_broken_seq, verdict.problem) == (2, "event 2 carries no key after keyed events")


def test_a_sealed_unkeyed_chain_rewritten_and_rehashed_differs_from_its_checkpoint() -> None:
    events = build(None, None)
    sealed = head(events)
    events[0].reason = "rewritten"
    events[0].hash = legacy_hash(events[0])
    events[1].prev_hash = events[0].hash
    events[1].hash = legacy_hash(events[1])

    verdict = walk(events, KEY_1, sealed)
    assert verdict.first_broken_seq == 2
    assert verdict.problem == f"event 2 differs from the checkpoint signed at {sealed.at}"


@pytest.mark.parametrize(
    ("audit_keys", "current", "message"),
    [
        ("", "", "set MLA_AUDIT_KEYS"),
        ("k1:short", "", "at least 32 characters"),
        (f"k1:{SECRET_1},k1:{SECRET_2}", "k1", "unique"),
        (f"k1:{SECRET_1},k2:{SECRET_2}", "", "MLA_AUDIT_CURRENT_KEY"),
        (f"k1:{SECRET_1}", "k9", "not among MLA_AUDIT_KEYS"),
    ],
)
def test_audit_keys_are_refused_when_missing_short_duplicated_or_ambiguous(
    audit_keys: str, current: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        keyring(audit_keys, current)
    assert SECRET_1 not in str(refused.value) and SECRET_2 not in str(refused.value)


def test_no_secret_shows_in_a_representation() -> None:
    settings = Settings(
        audit_keys=f"k1:{SECRET_1}",
        checkpoint_signing_key="c2VjcmV0" * 5,
        migration_database_url="postgresql://mla:owner-password@db/mla",
    )
    shown = repr(settings) + repr(KEY_1)
    assert SECRET_1 not in shown and "c2VjcmV0" not in shown and "owner-password" not in shown
