"""What an attacker holding the database (the owner role, without the audit keys) does to the trail."""

import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.audit.chain import canonical_content, legacy_hash
from mla.audit.checkpoints import CheckpointReport, checkpointing, write_checkpoint
from mla.audit.keys import public_key_text
from mla.audit.models import AuditEvent
from mla.clock import FixedClock
from mla.db import create_engine
from mla.settings import Settings
from tests.factories import World
from tests.test_cli import Run, run_mla

Forger = Callable[[Any], str]

# Ways to recompute a hash without the key. `legacy_hash` is the project's own function of before.
FORGERS: dict[str, tuple[Forger, bool]] = {
    "the project's old unkeyed SHA-256, event marked legacy": (legacy_hash, True),
    "the project's old unkeyed SHA-256, key id kept": (legacy_hash, False),
    "SHA-256 of the keyed content": (lambda e: hashlib.sha256(canonical_content(e)).hexdigest(), False),
    "HMAC under a guessed key": (lambda e: hmac.new(b"guess", canonical_content(e), "sha256").hexdigest(), False),
}


@asynccontextmanager
async def as_owner(owner_url: str) -> AsyncIterator[AsyncSession]:
    """One transaction as the owner with the append-only trigger lifted, and put back at the end."""
    engine = create_engine(owner_url, null_pool=True)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            await session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
            yield session
            await session.flush()
            await session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    finally:
        await engine.dispose()


async def rewrite_event(owner_url: str, chain: str, seq: int, forger: Forger, *, as_legacy: bool) -> None:
    """Change event `seq`'s reason, then relink and rehash it and every later event with `forger`."""
    async with as_owner(owner_url) as session:
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.chain == chain).order_by("seq")))
        events[seq - 1].reason = "nothing happened"
        for previous, event in zip([None, *events], events, strict=False):
            if event.seq < seq:
                continue
            event.prev_hash = None if previous is None else previous.hash
            if as_legacy:
                event.key_id = None
            event.hash = forger(event)


async def delete_events(owner_url: str, chain: str, from_seq: int = 1) -> None:
    async with as_owner(owner_url) as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.chain == chain, AuditEvent.seq >= from_seq))


async def walked_request(world: World) -> tuple[dict[str, str], dict[str, str]]:
    """A request whose chain holds three events (create, two edits); the owner's headers and the request."""
    org = await world.organisation()
    request = await world.request(org, await world.case(org), await world.counterparty())
    for version in (1, 2):
        await world.client.patch(
            f"/api/v1/requests/{request['id']}", json={"version": version, "priority": version}, headers=org.headers()
        )
    return org.headers(), request


async def checkpoint_now(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, settings: Settings
) -> CheckpointReport:
    """One checkpoint round, as the worker runs it, into the log `settings` name."""
    signing = checkpointing(settings)
    assert signing is not None
    async with sessionmaker() as session, session.begin():
        return await write_checkpoint(session, clock, signing)


def with_log(settings: Settings, path: Any) -> Settings:
    return msgspec.structs.replace(settings, checkpoint_log=str(path))


async def verify_with_cli(settings: Settings, data_dir: Path, *args: str) -> Run:
    """`mla audit verify` as the runtime role, trusting only the checkpoint signer's public key."""
    signing = checkpointing(settings)
    assert signing is not None
    env = {
        "MLA_CHECKPOINT_LOG": settings.checkpoint_log,
        "MLA_CHECKPOINT_PUBLIC_KEYS": public_key_text(signing.signer.public_key),
    }
    return await run_mla(
        "audit", "verify", *args, database_url=settings.database_url or "", data_dir=data_dir, extra_env=env
    )
