"""Writing and verifying the audit trail; every write in the system calls `record`."""

import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import repository
from mla.audit.chain import ChainVerdict, ChainWalk, Head, seal, to_json_value
from mla.audit.keys import AuditKeyring
from mla.audit.models import AuditEvent
from mla.audit.schemas import AuditEventOut
from mla.clock import Clock
from mla.db import AUDIT_KEYRING
from mla.pagination import Page
from mla.users.principal import Principal

SYSTEM_ROLES = ["system"]
PROGRESS_EVERY = 10_000
CHAINS_PER_QUERY = 500


@dataclass(frozen=True)
class AuditEntry:
    """What happened; the chain, sequence, time and hashes are added by `record`."""

    action: str
    chain: str
    organisation_id: uuid.UUID | None = None
    request_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    from_status: str | None = None
    to_status: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    checks: list[dict[str, Any]] | None = None
    reason: str | None = None


def request_entry(request: Any, action: str, *, from_status: str | None, **details: Any) -> AuditEntry:
    """An entry on a request's chain, ending in the status the request is in now."""
    return AuditEntry(
        action=action,
        chain=request_chain(request.id),
        organisation_id=request.organisation_id,
        request_id=request.id,
        case_id=request.case_id,
        from_status=from_status,
        to_status=request.status,
        **details,
    )


def request_chain(request_id: uuid.UUID) -> str:
    return f"request:{request_id}"


def case_chain(case_id: uuid.UUID) -> str:
    return f"case:{case_id}"


INSTALLATION_CHAIN = "admin"


def admin_chain(organisation_id: uuid.UUID | None = None) -> str:
    """One organisation's administration chain (its users, roles, tokens, webhooks), listed by its admins;
    without an organisation, the installation's (organisations, catalogue, rules), listed by platform admins.

    The installation chain keeps the name of the single chain used before, so its history continues.
    """
    return INSTALLATION_CHAIN if organisation_id is None else f"admin:{organisation_id}"


def session_keyring(session: AsyncSession) -> AuditKeyring:
    """The audit keys the session was made with (`create_sessionmaker(engine, keyring)`)."""
    keyring = session.info.get(AUDIT_KEYRING)
    if keyring is None:
        raise RuntimeError("this session has no audit keys: make it with create_sessionmaker(engine, keyring)")
    return keyring


class NewEvent(msgspec.Struct, kw_only=True):
    """An event about to be appended: the columns `mla.audit.chain` hashes, then its key id and hash."""

    chain: str
    seq: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_roles: list[str]
    organisation_id: uuid.UUID | None
    request_id: uuid.UUID | None
    case_id: uuid.UUID | None
    action: str
    from_status: str | None
    to_status: str | None
    changes: dict[str, Any]
    checks: list[dict[str, Any]] | None
    reason: str | None
    prev_hash: str | None
    hash: str = ""
    key_id: str | None = None


async def record(session: AsyncSession, clock: Clock, actor: Principal | None, entry: AuditEntry) -> NewEvent:
    """Append one event to its chain, in the caller's transaction.

    The chain is locked for the rest of the transaction so two writers never take the same `seq`.
    `actor=None` is the system (workers).
    """
    head = await repository.lock_chain(session, entry.chain)
    event = NewEvent(
        chain=entry.chain,
        seq=1 if head is None else head[0] + 1,
        at=clock.now(),
        actor_id=None if actor is None else actor.user_id,
        actor_roles=SYSTEM_ROLES if actor is None else sorted(actor.roles),
        organisation_id=entry.organisation_id,
        request_id=entry.request_id,
        case_id=entry.case_id,
        action=entry.action,
        from_status=entry.from_status,
        to_status=entry.to_status,
        changes=to_json_value(entry.changes),
        checks=None if entry.checks is None else to_json_value(entry.checks),
        reason=entry.reason,
        prev_hash=None if head is None else head[1],
    )
    seal(event, session_keyring(session))
    await repository.insert_event(session, msgspec.structs.asdict(event))
    return event


async def verify_chains(
    session: AsyncSession,
    chain: str | None = None,
    progress: Callable[[int], None] | None = None,
    checkpoints: Mapping[str, Head] | None = None,
) -> list[ChainVerdict]:
    """Recompute every chain (or one) in a single ordered pass over the table, with the session's keys.

    `checkpoints` are the last signed heads by chain: a chain must still match its head, and a chain
    the checkpoints know but the table lacks is reported as vanished. `progress`, if given, is called
    with the number of events checked so far every PROGRESS_EVERY events.
    """
    heads = checkpoints or {}
    events = repository.events_in_chain_order(session, None if chain is None else [chain])
    verdicts = await _walk(session, events, heads, progress=progress)
    seen = {verdict.chain for verdict in verdicts}
    expected = sorted(heads) if chain is None else [chain] if chain in heads else []
    vanished = [ChainWalk(name, session_keyring(session), heads[name]) for name in expected if name not in seen]
    return verdicts + [walk.verdict() for walk in vanished]


async def verify_named_chains(
    session: AsyncSession, chains: Sequence[str], checkpoints: Mapping[str, Head], *, seal_legacy: bool
) -> list[ChainVerdict]:
    """Recompute the given chains (those a checkpoint round found changed), a batch of chains per query."""
    verdicts: list[ChainVerdict] = []
    for first in range(0, len(chains), CHAINS_PER_QUERY):
        batch = chains[first : first + CHAINS_PER_QUERY]
        events = repository.events_in_chain_order(session, batch)
        verdicts += await _walk(session, events, checkpoints, seal_legacy=seal_legacy)
    return verdicts


async def _walk(
    session: AsyncSession,
    events: AsyncIterator[AuditEvent],
    checkpoints: Mapping[str, Head],
    *,
    progress: Callable[[int], None] | None = None,
    seal_legacy: bool = False,
) -> list[ChainVerdict]:
    keyring = session_keyring(session)
    verdicts: list[ChainVerdict] = []
    walk: ChainWalk | None = None
    checked = 0
    async for event in events:
        if walk is None or walk.chain != event.chain:
            if walk is not None:
                verdicts.append(walk.verdict())
            walk = ChainWalk(event.chain, keyring, checkpoints.get(event.chain), seal_legacy=seal_legacy)
        walk.feed(event)
        checked += 1
        if progress is not None and checked % PROGRESS_EVERY == 0:
            progress(checked)
    return verdicts if walk is None else [*verdicts, walk.verdict()]


async def verify_chain(session: AsyncSession, chain: str, checkpoint: Head | None = None) -> ChainVerdict:
    """One chain, against its last signed head if given (an empty chain with a head has vanished)."""
    verdicts = await verify_chains(session, chain, checkpoints=None if checkpoint is None else {chain: checkpoint})
    return verdicts[0] if verdicts else ChainWalk(chain, session_keyring(session)).verdict()


async def chain_page(session: AsyncSession, chain: str, after_seq: int, limit: int) -> Page[AuditEventOut]:
    """One page of a chain, oldest first; the cursor is the last `seq` shown."""
    events = await repository.chain_events(session, chain, after_seq, limit)
    shown = events[:limit]
    next_cursor = str(shown[-1].seq) if len(events) > limit else None
    return Page(items=[msgspec.convert(e, AuditEventOut, from_attributes=True) for e in shown], next_cursor=next_cursor)
