"""The checkpoint log: signed heads of the audit chains, kept in a file outside PostgreSQL.

One JSON record a line, appended and never rewritten. Each record holds up to HEADS_PER_RECORD
chain heads `[chain, events, last hash]`, its number, the time, the SHA-256 of the line before it
and an Ed25519 signature by the signer its fingerprint names. Someone holding the database but
not the signing key can neither forge a record nor make a changed chain match one; reading the
log needs only the public key.
"""

import fcntl
import hashlib
import mmap
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from mla.audit.chain import Head
from mla.audit.keys import CheckpointSigner, CheckpointVerifier

HEADS_PER_RECORD = 1_000  # bounds a line's size and the signatures per round


class CheckpointRecord(msgspec.Struct, kw_only=True):
    number: int
    at: str
    previous: str | None
    signer: str
    heads: list[tuple[str, int, str]]
    signature: str = ""


class CheckpointLogError(Exception):
    """The log itself does not verify: a forged, reordered or damaged record."""


@dataclass
class LogState:
    """The last signed head of every chain, and where the log ends."""

    heads: dict[str, Head] = field(default_factory=dict)
    records: int = 0
    last_digest: str | None = None

    def add(self, record: CheckpointRecord, line: bytes) -> None:
        for chain, events, digest in record.heads:
            self.heads[chain] = Head(events, digest, record.at)
        self.records += 1
        self.last_digest = hashlib.sha256(line).hexdigest()


def _signed_bytes(record: CheckpointRecord) -> bytes:
    return msgspec.json.encode(msgspec.structs.replace(record, signature=""), order="sorted")


class CheckpointLog:
    def __init__(self, path: Path, verifier: CheckpointVerifier) -> None:
        self.path = path
        self._verifier = verifier

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> LogState:
        """Every record, each signature and each link to the record before checked."""
        state = LogState()
        if not self.path.exists():
            return state
        with self.path.open("rb") as file:
            for number, raw in enumerate(file, 1):
                if not raw.endswith(b"\n"):
                    raise CheckpointLogError(f"{self.path} line {number}: incomplete record")
                line = raw[:-1]
                record = self._verified(line, f"{self.path} line {number}")
                if record.number != state.records + 1 or record.previous != state.last_digest:
                    raise CheckpointLogError(f"{self.path} line {number}: a record is missing or out of order")
                state.add(record, line)
        return state

    def last_head(self, chain: str) -> Head | None:
        """The chain's last signed head, found from the end of the log without reading all of it."""
        needle = msgspec.json.encode(chain)
        try:
            file = self.path.open("rb")
        except FileNotFoundError:
            return None
        with file:
            if os.fstat(file.fileno()).st_size == 0:
                return None
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
                end = len(data)
                while (hit := data.rfind(needle, 0, end)) >= 0:
                    start = data.rfind(b"\n", 0, hit) + 1
                    stop = data.find(b"\n", hit)
                    record = self._verified(data[start : stop if stop >= 0 else len(data)], str(self.path))
                    for name, events, digest in record.heads:
                        if name == chain:
                            return Head(events, digest, record.at)
                    end = start
        return None

    def _verified(self, line: bytes, where: str) -> CheckpointRecord:
        try:
            record = msgspec.json.decode(line, type=CheckpointRecord)
        except msgspec.MsgspecError as exc:
            raise CheckpointLogError(f"{where}: not a checkpoint record") from exc
        if not self._verifier.verify(record.signer, _signed_bytes(record), record.signature):
            raise CheckpointLogError(f"{where}: the signature does not verify (signer {record.signer})")
        return record

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the log for one writer at a time (a worker's round, `mla audit checkpoint`)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as file:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(file.fileno(), fcntl.LOCK_UN)

    def append(self, state: LogState, signer: CheckpointSigner, at: str, heads: Sequence[tuple[str, int, str]]) -> None:
        """Sign `heads` in records after `state` (the log as read under the lock) and write them durably."""
        lines = []
        for first in range(0, len(heads), HEADS_PER_RECORD):
            record = CheckpointRecord(
                number=state.records + 1,
                at=at,
                previous=state.last_digest,
                signer=signer.fingerprint,
                heads=list(heads[first : first + HEADS_PER_RECORD]),
            )
            record.signature = signer.sign(_signed_bytes(record))
            line = msgspec.json.encode(record)
            state.add(record, line)
            lines.append(line + b"\n")
        with self.path.open("ab") as file:
            file.write(b"".join(lines))
            file.flush()
            os.fsync(file.fileno())
