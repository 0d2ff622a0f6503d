"""Signed checkpoints kept outside PostgreSQL: deleting the tail of a chain, or a whole chain, after
a checkpoint is detected and named, and the checkpointer never signs a damaged chain."""

import uuid
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.audit import service as audit
from mla.audit.chain import legacy_hash
from mla.audit.checkpoint_log import CheckpointLogError
from mla.audit.checkpoints import checkpoint_log, checkpointing
from mla.audit.models import AuditEvent
from mla.clock import FixedClock
from mla.settings import Settings
from tests.audit.support import (
    as_owner,
    checkpoint_now,
    delete_events,
    rewrite_event,
    verify_with_cli,
    walked_request,
    with_log,
)
from tests.factories import World
from workers import jobs
from workers.settings import build_worker


async def verify_over_api(world: World, headers: dict[str, str], request: dict[str, str]) -> dict[str, object]:
    return (await world.client.get(f"/api/v1/requests/{request['id']}/audit/verify", headers=headers)).json()


async def test_verify_names_a_rewritten_a_truncated_and_a_vanished_chain(
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
    owner_database_url: str,
    tmp_path: Path,
) -> None:
    rewritten_headers, rewritten = await walked_request(world)
    truncated_headers, truncated = await walked_request(world)
    vanished_headers, vanished = await walked_request(world)
    await checkpoint_now(sessionmaker, clock, settings)
    signed_at = clock.now().isoformat()
    assert (await verify_over_api(world, truncated_headers, truncated))["checkpoint"] == {
        "events": 3,
        "at": signed_at.replace("+00:00", "Z"),
    }

    await rewrite_event(owner_database_url, f"request:{rewritten['id']}", 2, legacy_hash, as_legacy=False)
    await delete_events(owner_database_url, f"request:{truncated['id']}", from_seq=2)
    await delete_events(owner_database_url, f"request:{vanished['id']}")

    changed = await verify_over_api(world, rewritten_headers, rewritten)
    assert (changed["valid"], changed["first_broken_seq"]) == (False, 2)
    assert changed["problem"] == "event 2 was rewritten: its hash does not match it"
    cut = await verify_over_api(world, truncated_headers, truncated)
    assert (cut["valid"], cut["events"], cut["first_broken_seq"]) == (False, 1, 2)
    assert cut["problem"] == f"events 2 to 3 are missing: the checkpoint signed at {signed_at} counted 3 events"
    gone = await verify_over_api(world, vanished_headers, vanished)
    assert (gone["valid"], gone["events"], gone["first_broken_seq"]) == (False, 0, 1)
    assert gone["problem"] == f"the chain vanished: the checkpoint signed at {signed_at} counted 3 events"

    run = await verify_with_cli(settings, tmp_path)  # every chain, with only the public key
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert f"BROKEN request:{rewritten['id']}: first broken link at seq 2: {changed['problem']}" in lines
    assert f"BROKEN request:{truncated['id']}: first broken link at seq 2: {cut['problem']}" in lines
    assert f"BROKEN request:{vanished['id']}: first broken link at seq 1: {gone['problem']}" in lines


async def test_a_round_signs_the_heads_that_changed_and_only_those(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, settings: Settings, tmp_path: Path
) -> None:
    own = with_log(settings, tmp_path / "log" / "checkpoints.jsonl")
    headers, request = await walked_request(world)
    chain = f"request:{request['id']}"

    first = await checkpoint_now(sessionmaker, clock, own)
    again = await checkpoint_now(sessionmaker, clock, own)
    await world.client.patch(f"/api/v1/requests/{request['id']}", json={"version": 3, "priority": 7}, headers=headers)
    clock.advance(timedelta(minutes=10))
    third = await checkpoint_now(sessionmaker, clock, own)

    assert first.signed > 0 and again.signed == 0 and third.signed == 1
    head = checkpoint_log(own).read().heads[chain]
    assert (head.events, head.at) == (4, clock.now().isoformat())


async def test_a_round_refuses_to_sign_a_truncated_or_vanished_chain(
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
    owner_database_url: str,
    tmp_path: Path,
) -> None:
    own = with_log(settings, tmp_path / "checkpoints.jsonl")
    _, truncated = await walked_request(world)
    _, vanished = await walked_request(world)
    await checkpoint_now(sessionmaker, clock, own)
    await delete_events(owner_database_url, f"request:{truncated['id']}", from_seq=3)
    await delete_events(owner_database_url, f"request:{vanished['id']}")

    report = await checkpoint_now(sessionmaker, clock, own)

    assert (f"request:{truncated['id']}", 3) in {(v.chain, v.first_broken_seq) for v in report.refused}
    assert f"request:{vanished['id']}" in {v.chain for v in report.vanished}
    heads = checkpoint_log(own).read().heads
    assert heads[f"request:{truncated['id']}"].events == 3  # the signed head stays what it was


async def test_a_forged_or_reordered_log_record_does_not_verify(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, settings: Settings, tmp_path: Path
) -> None:
    own = with_log(settings, tmp_path / "checkpoints.jsonl")
    await walked_request(world)
    await checkpoint_now(sessionmaker, clock, own)
    await walked_request(world)
    await checkpoint_now(sessionmaker, clock, own)
    path = Path(own.checkpoint_log)
    lines = path.read_bytes().splitlines(keepends=True)
    record = msgspec.json.decode(lines[-1])
    record["heads"][0][1] += 1  # claim one more event than was signed

    path.write_bytes(b"".join(lines[:-1]) + msgspec.json.encode(record) + b"\n")
    with pytest.raises(CheckpointLogError, match="signature does not verify"):
        checkpoint_log(own).read()

    path.write_bytes(b"".join([lines[-1], *lines[:-1]]))
    with pytest.raises(CheckpointLogError, match="missing or out of order"):
        checkpoint_log(own).read()


async def plant_legacy_chain(owner_database_url: str, clock: FixedClock, events: int) -> str:
    """A chain as the code before keys wrote it: unkeyed SHA-256 links, no key id."""
    chain = f"legacy:{uuid.uuid4()}"
    async with as_owner(owner_database_url) as session:
        previous = None
        for seq in range(1, events + 1):
            event = AuditEvent(
                chain=chain, seq=seq, at=clock.now(), actor_id=None, actor_roles=["system"], organisation_id=None,
                request_id=None, case_id=None, action="note", from_status=None, to_status=None, changes={},
                checks=None, reason=None, prev_hash=previous, key_id=None,
            )  # fmt: skip
            event.hash = previous = legacy_hash(event)
            session.add(event)
    return chain


async def verify_one(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, chain: str
) -> audit.ChainVerdict:
    async with sessionmaker() as session:
        return await audit.verify_chain(session, chain, checkpoint_log(settings).last_head(chain))


async def test_events_from_before_the_keys_are_sealed_by_the_first_round_of_a_log_only(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
    owner_database_url: str,
    tmp_path: Path,
) -> None:
    own = with_log(settings, tmp_path / "checkpoints.jsonl")
    old = await plant_legacy_chain(owner_database_url, clock, 2)
    assert (
        await verify_one(sessionmaker, own, old)
    ).problem == "event 1 carries no key and no signed checkpoint covers it"

    await checkpoint_now(sessionmaker, clock, own)  # the first round of this log seals what exists
    assert (await verify_one(sessionmaker, own, old)).valid

    late = await plant_legacy_chain(owner_database_url, clock, 1)  # forged after the seal
    report = await checkpoint_now(sessionmaker, clock, own)
    assert late in {v.chain for v in report.refused}
    assert not (await verify_one(sessionmaker, own, late)).valid

    async with sessionmaker() as session, session.begin():  # the sealed chain goes on, keyed
        await audit.record(session, clock, None, audit.AuditEntry(action="note", chain=old))
    assert (await verify_one(sessionmaker, own, old)).valid


async def test_the_worker_checkpoints_on_a_schedule_and_at_startup(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, settings: Settings, tmp_path: Path
) -> None:
    own = with_log(settings, tmp_path / "checkpoints.jsonl")
    [default] = [job for job in build_worker(own).cron_jobs if "checkpoint_audit_trails" in job.name]
    [half_hourly] = [
        job
        for job in build_worker(msgspec.structs.replace(own, checkpoint_minutes=30)).cron_jobs
        if "checkpoint_audit_trails" in job.name
    ]
    unsigned = msgspec.structs.replace(own, checkpoint_signing_key="")
    assert (default.minute, default.second, default.run_at_startup) == (set(range(0, 60, 10)), {0}, True)
    assert half_hourly.minute == {0, 30}
    assert not [job for job in build_worker(unsigned).cron_jobs if "checkpoint" in job.name]

    _, request = await walked_request(world)
    result = await jobs.checkpoint_audit_trails(
        {"sessionmaker": sessionmaker, "clock": clock, "checkpoints": checkpointing(own)}
    )

    assert result["signed"] > 0
    assert checkpoint_log(own).read().heads[f"request:{request['id']}"].events == 3
