"""arq job functions: thin, idempotent, each calling a domain service in its own transaction."""

import logging
from typing import Any

from mla.alerts.scan import scan_due_alerts
from mla.audit import service as audit

log = logging.getLogger("mla.worker")
SCAN_BATCH = 500


async def verify_audit_trails(ctx: dict[str, Any]) -> dict[str, Any]:
    """Recompute every audit chain; a broken one is logged as an error naming its first broken link."""
    async with ctx["sessionmaker"]() as session, session.begin():
        verdicts = await audit.verify_chains(session)
    broken = [v for v in verdicts if not v.valid]
    for verdict in broken:
        log.error("audit chain %s broken at seq %s", verdict.chain, verdict.first_broken_seq)
    return {"chains": len(verdicts), "broken": len(broken)}


async def scan_alerts(ctx: dict[str, Any]) -> dict[str, int]:
    """Decide every due alert stage, batch by batch, each batch in its own transaction."""
    totals = {"alerts": 0, "lapsed": 0, "deliveries": 0}
    while True:
        async with ctx["sessionmaker"]() as session, session.begin():
            report = await scan_due_alerts(session, ctx["clock"], batch=SCAN_BATCH)
        for key in totals:
            totals[key] += getattr(report, key)
        if report.deadlines < SCAN_BATCH:
            return totals
