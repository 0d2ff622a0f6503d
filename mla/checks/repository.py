"""Every query of the legality checks, on SQLAlchemy Core: what the checks read of a request in one
statement (decoded straight into msgspec structs), and the attestations written."""

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from mla.checks.models import Attestation
from mla.treaties.schemas import TreatyPartyRecord


class CounterpartyRow(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    name: str
    country: str
    timezone: str
    requires_dual_criminality: bool
    death_penalty: bool


class AttestationRow(msgspec.Struct, kw_only=True):
    """The latest attestation of one check, with the fingerprint of what it judged."""

    code: str
    outcome: str
    reason: str
    attested_by_email: str
    attested_at: datetime
    fingerprint: str


class TreatyRow(msgspec.Struct, kw_only=True):
    """The treaty an instrument rests on, with the party records of the states that may need binding."""

    code: str
    title: str
    kind: str
    parties: list[TreatyPartyRecord]


class ChecksInput(msgspec.Struct, kw_only=True):
    """What the checks read of a request besides its own row and the reference data."""

    offences: list[dict[str, Any]]
    counterparty: CounterpartyRow
    attestations: list[AttestationRow]  # the latest per check
    treaty: TreatyRow | None


# One statement, one JSON document: the case's offences, the target, the latest attestation per check and
# the instrument's treaty (the first by code) with the records of the owner's and the target's states.
_CHECKS_INPUT = text(
    """
    SELECT json_build_object(
        'offences', cases.offences,
        'counterparty', json_build_object(
            'id', target.id, 'kind', target.kind, 'name', target.name, 'country', target.country,
            'timezone', target.timezone, 'requires_dual_criminality', target.requires_dual_criminality,
            'death_penalty', target.death_penalty),
        'attestations', (
            SELECT coalesce(json_agg(latest), '[]') FROM (
                SELECT DISTINCT ON (code) code, outcome, reason, attested_by_email, attested_at, fingerprint
                FROM attestations WHERE request_id = :request_id ORDER BY code, attested_at DESC
            ) AS latest),
        'treaty', (
            SELECT json_build_object('code', treaty.code, 'title', treaty.title, 'kind', treaty.kind, 'parties', (
                SELECT coalesce(json_agg(party), '[]') FROM (
                    SELECT country, signed_on, ratified_on, in_force_on, notes, source, source_verified
                    FROM treaty_parties
                    WHERE treaty_id = treaty.id AND country IN (:owner_country, target.country)
                    ORDER BY country
                ) AS party))
            FROM treaties AS treaty WHERE :instrument = ANY (treaty.instrument_codes)
            ORDER BY treaty.code LIMIT 1)
    )::text
    FROM cases, counterparties AS target
    WHERE cases.id = :case_id AND target.id = :target_id
    """
)


async def checks_input(
    session: AsyncSession,
    *,
    request_id: uuid.UUID,
    case_id: uuid.UUID,
    target_id: uuid.UUID,
    instrument: str,
    owner_country: str,
) -> ChecksInput:
    """Everything the checks read of one request (which may not be saved yet), in one statement."""
    parameters = {
        "request_id": request_id,
        "case_id": case_id,
        "target_id": target_id,
        "instrument": instrument,
        "owner_country": owner_country,
    }
    document = (await session.execute(_CHECKS_INPUT, parameters)).scalar_one()
    return msgspec.json.decode(document, type=ChecksInput)


async def insert_attestation(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(Attestation.__table__), values)
