"""Signed checkpoints of every chain head, written by the worker on a schedule and by
`mla audit checkpoint`, so that truncating or rewriting a chain shows even to someone who holds
the database (SPEC §8).

A round signs only heads that extend what the log already signed and verify with the keys: a
truncated, rewritten or vanished chain is never signed again, it is reported. Events without a
key (written before keys existed) are sealed only by the first round of an empty log.
"""

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import repository
from mla.audit.chain import ChainVerdict, ChainWalk, Head
from mla.audit.checkpoint_log import CheckpointLog, CheckpointLogError
from mla.audit.keys import CheckpointSigner, checkpoint_signer, checkpoint_verifier
from mla.audit.schemas import CheckpointOut, VerifyOut
from mla.audit.service import session_keyring, verify_chain, verify_named_chains
from mla.clock import Clock
from mla.settings import Settings

log = logging.getLogger("mla.audit")
LOG_FILE_NAME = "audit-checkpoints.jsonl"


def checkpoint_log(settings: Settings) -> CheckpointLog:
    """The log named by MLA_CHECKPOINT_LOG (default: under the data folder), read with the trusted public keys."""
    path = Path(settings.checkpoint_log) if settings.checkpoint_log else Path(settings.data_dir) / LOG_FILE_NAME
    return CheckpointLog(path, checkpoint_verifier(settings))


@dataclass(frozen=True)
class Checkpointing:
    log: CheckpointLog
    signer: CheckpointSigner


def checkpointing(settings: Settings) -> Checkpointing | None:
    """What a writer of checkpoints needs, or None when no signing key is configured."""
    signer = checkpoint_signer(settings)
    return None if signer is None else Checkpointing(checkpoint_log(settings), signer)


@dataclass(frozen=True)
class CheckpointReport:
    signed: int
    refused: list[ChainVerdict]
    vanished: list[ChainVerdict]
    log: Path


async def write_checkpoint(session: AsyncSession, clock: Clock, checkpoints: Checkpointing) -> CheckpointReport:
    """Sign the head of every chain that changed since the log's last record (CheckpointLogError if
    the log itself does not verify); report the chains that cannot be signed."""
    log = checkpoints.log
    with log.locked():
        state = log.read()
        current = await repository.chain_heads(session)
        changed = [chain for chain, head in current.items() if _signed(state.heads.get(chain)) != head]
        verdicts = await verify_named_chains(session, changed, state.heads, seal_legacy=state.records == 0)
        signed = [(v.chain, v.events, v.last_hash or "") for v in verdicts if v.valid]
        keyring = session_keyring(session)
        vanished = [ChainWalk(c, keyring, head).verdict() for c, head in state.heads.items() if c not in current]
        if signed:
            log.append(state, checkpoints.signer, clock.now().isoformat(), signed)
    return CheckpointReport(len(signed), [v for v in verdicts if not v.valid], vanished, log.path)


def _signed(head: Head | None) -> tuple[int, str] | None:
    return None if head is None else (head.events, head.hash)


async def verify_against_checkpoint(session: AsyncSession, settings: Settings, chain: str) -> VerifyOut:
    """Recompute one chain and compare it with its last signed checkpoint (the API's and the desk's verdict).

    A checkpoint log that does not verify makes the verdict invalid, saying so.
    """
    try:
        checkpoint = await asyncio.to_thread(checkpoint_log(settings).last_head, chain)
    except CheckpointLogError:
        log.exception("the audit checkpoint log does not verify")
        return VerifyOut(valid=False, events=0, first_broken_seq=None, problem="the checkpoint log does not verify")
    verdict = await verify_chain(session, chain, checkpoint)
    return VerifyOut(
        valid=verdict.valid,
        events=verdict.events,
        first_broken_seq=verdict.first_broken_seq,
        problem=verdict.problem,
        checkpoint=None if checkpoint is None else CheckpointOut.of(checkpoint),
    )
