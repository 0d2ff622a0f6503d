"""What one seeded request looks like: its row, its deadlines and its audit trail, as COPY records.

The status mix leans towards open work (about 15 % closed) so that about one deadline per request
is open, as the issue's scan target ("10,000 due among 1,000,000 open") asks. Each request's
history is the workflow path to its status; its audit events carry real keyed chain hashes
(HMAC-SHA256 under the benchmark's audit key, `mla.audit.chain.keyed_hash`), so `mla audit verify`
accepts them. Deadline lengths come from
the seeded rules (business days counted as 7/5 calendar days: no holiday calendars here), and
`next_alert_at` is the first alert stage not yet fired, as `mla.deadlines.service.schedule` keeps it.

Exactly the requests chosen by `PlannedRequests.is_due` have one deadline whose next alert stage is
at or before the scan instant `now`: one reminder each; every other stage before `now` counts as fired.
None of them is confidential, so each of their alerts posts one webhook.
"""

import bisect
import hashlib
import hmac
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import msgspec

from bench.database import BENCH_KEYRING
from bench.world import Organisation, Rule, World
from mla.audit.chain import keyed_hash
from mla.deadlines.stages import alert_stages, next_stage_at
from mla.enums import TERMINAL_STATUSES, URGENCY_RANK, Urgency

REQUEST_COLUMNS = (
    "id", "reference", "case_id", "organisation_id", "central_authority_id", "direction", "type", "target_id",
    "instrument", "data_categories", "identifiers", "period_start", "period_end", "urgency",
    "emergency_justification", "facts", "link_to_offence", "necessity", "proportionality", "confidential",
    "confidentiality_reason", "language", "status", "assignee_id", "priority", "counterparty_references",
    "follow_up_request_id", "channel_reference", "postponed_until", "urgency_rank", "next_due_at", "created_by",
    "created_at", "updated_at", "version",
)  # fmt: skip
SNAPSHOT_FIELDS = tuple(c for c in REQUEST_COLUMNS if c not in ("urgency_rank", "next_due_at"))  # = RequestOut
DEADLINE_COLUMNS = (
    "id", "request_id", "rule_id", "kind", "rule_code", "status", "started_at", "due_at", "window_seconds",
    "explanation", "paused_at", "next_alert_at", "fired_stages", "closed_at", "closed_by_action", "created_at",
    "alert_stages", "alert_stage_times",
)  # fmt: skip
AUDIT_COLUMNS = (
    "chain", "seq", "at", "actor_id", "actor_roles", "organisation_id", "request_id", "case_id", "action",
    "from_status", "to_status", "changes", "checks", "reason", "prev_hash", "hash", "key_id",
)  # fmt: skip

FACTS = (
    "Between March and May the suspect encrypted the hospital's patient records and demanded a ransom in "
    "bitcoin; the ransom note names this account as the contact address for the decryption key."
)
STATEMENT = "The suspect used this account to distribute the material described in the case file."
EMERGENCY_JUSTIFICATION = "A child is at immediate risk of sexual abuse: the account is used to arrange a meeting."
CONFIDENTIALITY_REASON = "Disclosure to the account holder would alert the suspect."
CHECKS = [
    {"code": code, "severity": "blocking", "outcome": "pass", "explanation": f"{code}: satisfied.",
     "attestable": False, "attested_by": None, "attested_reason": None, "attested_at": None}
    for code in ("instrument_allows_request", "statements_substantive", "period_bounded", "identifiers_narrow")
]  # fmt: skip
CHECKS_JSON = msgspec.json.encode(CHECKS, order="sorted")
# How the clock a closed request ran last was closed, by its closing status.
CLOSED_AS = {
    "fulfilled": "met", "refused": "cancelled", "rejected": "met", "withdrawn": "cancelled", "expired": "missed",
}  # fmt: skip
UNIT_SECONDS = {"calendar_days": 86_400, "business_days": 86_400 * 7 // 5, "hours": 3_600}
URGENCIES = (("routine", 0.85), ("urgent", 0.10), ("emergency", 0.05))


@dataclass(frozen=True)
class Template:
    """A kind of request: what it asks, under which instrument, and how its statuses are spread."""

    type: str
    instrument: str
    target: str  # "state" or "provider"
    categories: tuple[str, ...]
    direction: str
    prefix: str
    weight: float
    statuses: tuple[tuple[str, float], ...]
    response_rules: tuple[str, ...] = ()  # clocks opened by transmit (or accept)
    expiry_rule: str | None = None  # clock opened by transmit, running until supersede or lapse


OUTGOING = (
    ("draft", 0.04), ("under_review", 0.12), ("approved", 0.02), ("transmitted", 0.22), ("acknowledged", 0.30),
    ("awaiting_clarification", 0.04), ("postponed", 0.02), ("partially_fulfilled", 0.06), ("fulfilled", 0.12),
    ("refused", 0.02), ("rejected", 0.01), ("withdrawn", 0.03),
)  # fmt: skip
PRESERVATION = (
    ("draft", 0.04), ("under_review", 0.12), ("approved", 0.02), ("transmitted", 0.06), ("acknowledged", 0.06),
    ("preserved", 0.55), ("fulfilled", 0.08), ("withdrawn", 0.03), ("rejected", 0.01), ("expired", 0.03),
)  # fmt: skip
INCOMING = (("received", 0.15), ("in_execution", 0.65), ("fulfilled", 0.15), ("refused", 0.05))
OUTGOING_TEMPLATES = (
    Template("production", "eu-epoc", "provider", ("content", "subscriber"), "outgoing", "PROD", 0.45, OUTGOING,
             ("epoc-response", "epoc-enforcing-review", "epoc-emergency-validation")),
    Template("preservation", "us-2703f", "provider", ("content", "subscriber", "traffic"), "outgoing", "PRES", 0.12,
             PRESERVATION, expiry_rule="preservation-expiry"),
    Template("preservation", "eu-epoc-pr", "provider", ("content", "subscriber"), "outgoing", "PRES", 0.05,
             PRESERVATION, expiry_rule="epoc-pr-expiry"),
    Template("mla", "mlat", "state", ("content",), "outgoing", "MLA", 0.28, OUTGOING, ("mla-follow-up",)),
    Template("subscriber_info", "2ap-7", "provider", ("subscriber",), "outgoing", "SUB", 0.10, OUTGOING,
             ("2ap-7-response",)),
)  # fmt: skip
INCOMING_TEMPLATE = Template(
    "mla", "mlat", "state", ("content", "traffic"), "incoming", "IN", 1.0, INCOMING, ("incoming-execution",)
)
# The workflow path to each status: (action, status after it), after `create`.
PATHS: dict[str, list[tuple[str, str]]] = {
    "draft": [],
    "under_review": [("submit", "under_review")],
    "approved": [("submit", "under_review"), ("approve", "approved")],
    "transmitted": [("submit", "under_review"), ("approve", "approved"), ("transmit", "transmitted")],
}
PATHS["acknowledged"] = [*PATHS["transmitted"], ("acknowledge", "acknowledged")]
PATHS["awaiting_clarification"] = [*PATHS["acknowledged"], ("request_clarification", "awaiting_clarification")]
PATHS["postponed"] = [*PATHS["acknowledged"], ("postpone", "postponed")]
PATHS["partially_fulfilled"] = [*PATHS["acknowledged"], ("record_partial", "partially_fulfilled")]
PATHS["fulfilled"] = [*PATHS["acknowledged"], ("fulfil", "fulfilled")]
PATHS["refused"] = [*PATHS["transmitted"], ("refuse", "refused")]
PATHS["rejected"] = [("submit", "under_review"), ("reject", "rejected")]
PATHS["withdrawn"] = [("submit", "under_review"), ("withdraw", "withdrawn")]
PATHS["preserved"] = [*PATHS["transmitted"], ("confirm_preserved", "preserved")]
PRESERVATION_PATHS = {
    "fulfilled": [*PATHS["preserved"], ("supersede", "fulfilled")],
    "expired": [*PATHS["preserved"], ("lapse", "expired")],
}
INCOMING_PATHS = {
    "received": [],
    "in_execution": [("accept", "in_execution")],
    "fulfilled": [("accept", "in_execution"), ("execute", "fulfilled")],
    "refused": [("refuse", "refused")],
}
OWNER_ACTIONS = {"submit", "withdraw", "provide_clarification"}
REASONED_ACTIONS = {"reject", "refuse", "withdraw", "lapse", "postpone"}


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


class PlannedRequests:
    """Builds the COPY records of request number `n` (0-based) of a seed of `total` requests."""

    def __init__(self, world: World, now: datetime, total: int, due: int, rng: random.Random) -> None:
        self.world, self.now, self.rng = world, now, rng
        self.total, self.due = total, due
        self.stride = total // due if due else 0
        self.owners = world.owners()
        self.owner_weights = _cumulative([organisation.weight for organisation, _ in self.owners])
        self.template_weights = _cumulative([t.weight for t in OUTGOING_TEMPLATES])
        self.urgency_weights = _cumulative([w for _, w in URGENCIES])
        self._hash_checked = False

    def is_due(self, n: int) -> bool:
        return bool(self.stride) and n % self.stride == 0 and n // self.stride < self.due

    def build(self, n: int) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The request row, its deadline rows and its audit event rows."""
        rng = self.rng
        owner, incoming = self.owners[self._pick(self.owner_weights)]
        template = INCOMING_TEMPLATE if incoming else OUTGOING_TEMPLATES[self._pick(self.template_weights)]
        urgency = URGENCIES[self._pick(self.urgency_weights)][0]
        if template.type == "subscriber_info" and urgency == "emergency":
            urgency = "urgent"  # 2AP art 7 has no emergency procedure
        due = self.is_due(n)
        status = self._status(template, urgency, running_only=due)
        authority = self.world.authorities[owner.authority]
        clocks = self.running_clocks(template, status, urgency)
        request_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        opened_at, deadlines, next_due_at = self._deadlines(request_id, template, status, urgency, clocks, due)
        created_at = (opened_at or self.now) - timedelta(seconds=rng.uniform(3_600, 30 * 86_400))
        if opened_at is None:
            created_at = self.now - timedelta(seconds=rng.uniform(86_400, 720 * 86_400))
        updated_at = opened_at or created_at + (self.now - created_at) * rng.random() * 0.5
        creator = rng.choice(owner.members)
        path = self._path(template, status)
        if (status in TERMINAL_STATUSES or status == "approved") and path[0][0] != "refuse":
            deadlines.append(self._closed(request_id, template, status, path[-1][0], urgency, updated_at))
        assigned = status not in ("draft", "received") and rng.random() < 0.5
        assignee = rng.choice(authority.members).id if assigned else None
        sent = status not in ("draft", "under_review", "approved", "received", "rejected", "withdrawn")
        reference = f"{template.prefix}-{created_at.year}-{n + 1:06d}"
        # Half the requests are confidential, but no due one: a confidential request's alerts post no
        # webhook (README), and the alert-latency line times the webhooks of every due alert.
        confidential = n % 2 == 0 and not due
        period_end = created_at - timedelta(days=1)
        values = {
            "id": request_id,
            "reference": reference,
            "case_id": rng.choice(owner.cases),
            "organisation_id": owner.id,
            "central_authority_id": authority.id,
            "direction": template.direction,
            "type": template.type,
            "target_id": rng.choice(self.world.states if template.target == "state" else self.world.providers),
            "instrument": template.instrument,
            "data_categories": list(template.categories),
            "identifiers": [{"kind": "email", "value": f"suspect{n}@example.com", "from": None, "to": None}],
            "period_start": period_end - timedelta(days=90),
            "period_end": period_end,
            "urgency": urgency,
            "emergency_justification": EMERGENCY_JUSTIFICATION if urgency == "emergency" else None,
            "facts": FACTS,
            "link_to_offence": STATEMENT,
            "necessity": STATEMENT,
            "proportionality": STATEMENT,
            "confidential": confidential,
            "confidentiality_reason": CONFIDENTIALITY_REASON if confidential else None,
            "language": "en",
            "status": status,
            "assignee_id": assignee,
            "priority": 0,
            "counterparty_references": [f"CP-{n}"] if sent and rng.random() < 0.6 else [],
            "follow_up_request_id": None,
            "channel_reference": "secure e-mail" if sent else None,
            "postponed_until": self.now + timedelta(days=30) if status == "postponed" else None,
            "urgency_rank": URGENCY_RANK[Urgency(urgency)],
            "next_due_at": next_due_at,
            "created_by": creator.id,
            "created_at": created_at,
            "updated_at": updated_at,
            "version": 1 + len(path),
        }
        events = self._audit(values, owner, authority, creator.id, path, created_at, updated_at)
        values["identifiers"] = msgspec.json.encode(values["identifiers"]).decode()
        return tuple(values[c] for c in REQUEST_COLUMNS), deadlines, events

    def running_clocks(self, template: Template, status: str, urgency: str) -> list[tuple[str, bool]]:
        """The clocks open on a request in `status`, each with whether it is paused."""
        if status == "under_review":
            return [("internal-review", False)]
        if status == "preserved" and template.expiry_rule:
            return [(template.expiry_rule, False)]
        if status in ("transmitted", "acknowledged") and template.expiry_rule:  # not yet confirmed
            return [("preservation-confirmation", False), (template.expiry_rule, False)]
        responses = [c for c in template.response_rules if c != "epoc-emergency-validation" or urgency == "emergency"]
        if status in ("transmitted", "acknowledged", "partially_fulfilled", "postponed", "in_execution"):
            return [(code, False) for code in responses]
        if status == "awaiting_clarification":  # the counterparty's clocks wait for our answer
            pausing = [(code, self.world.rules[code].pauses_on_clarification) for code in responses]
            return [("clarification-answer", False), *pausing]
        return []

    def _pick(self, cumulative: list[float]) -> int:
        return min(bisect.bisect_right(cumulative, self.rng.random() * cumulative[-1]), len(cumulative) - 1)

    def _status(self, template: Template, urgency: str, *, running_only: bool) -> str:
        statuses = template.statuses
        if running_only:  # a request chosen to be due needs a clock that runs
            statuses = tuple(
                (s, w) for s, w in statuses if any(not p for _, p in self.running_clocks(template, s, urgency))
            )
        return statuses[self._pick(_cumulative([w for _, w in statuses]))][0]

    def _path(self, template: Template, status: str) -> list[tuple[str, str]]:
        if template.direction == "incoming":
            return INCOMING_PATHS[status]
        if template.type == "preservation" and status in PRESERVATION_PATHS:
            return PRESERVATION_PATHS[status]
        return PATHS[status]

    def _window(self, rule: Rule, urgency: str, instrument: str) -> int | None:
        amount, unit = rule.durations[urgency]
        if rule.amount_from_instrument:
            amount = self.world.preservation_days.get(instrument)
        return None if amount is None else amount * UNIT_SECONDS[unit]

    def _deadlines(
        self,
        request_id: uuid.UUID,
        template: Template,
        status: str,
        urgency: str,
        clocks: list[tuple[str, bool]],
        due: bool,
    ) -> tuple[datetime | None, list[tuple[Any, ...]], datetime | None]:
        """Open clocks: (when the last one opened, their rows, the earliest running due moment)."""
        rows: list[tuple[Any, ...]] = []
        opened_at: datetime | None = None
        running_due: list[datetime] = []
        for code, paused in clocks:
            rule = self.world.rules[code]
            window = self._window(rule, urgency, template.instrument)
            if window is None:
                continue
            if due and not paused and not rows:
                due_at, fired, next_alert_at = self._due_timing(rule, window)
                started_at = due_at - timedelta(seconds=window)
            else:
                if opened_at is None:  # clocks opened by the same action share their start
                    opened_at = self.now - timedelta(seconds=self.rng.uniform(0, 1.2 * window))
                started_at = opened_at - (timedelta(days=self.rng.uniform(1, 10)) if paused else timedelta())
                due_at = started_at + timedelta(seconds=window)
                fired, next_alert_at = self._fired(rule, due_at, window)
            opened_at = opened_at or started_at
            if not paused:
                running_due.append(due_at)
            stages = _stages(rule, due_at, window)
            rows.append((
                uuid.UUID(int=self.rng.getrandbits(128), version=4), request_id, rule.id, rule.kind, rule.code, "open",
                started_at, due_at, window, _explanation(rule, started_at, due_at, urgency),
                opened_at if paused else None, next_alert_at, fired, None, None, started_at,
                [stage for stage, _ in stages], [at for _, at in stages],
            ))  # fmt: skip
        return opened_at, rows, min(running_due, default=None)

    def _fired(self, rule: Rule, due_at: datetime, window: int) -> tuple[list[str], datetime | None]:
        """Every stage at or before now counts as fired by earlier scans: nothing is due."""
        stages = _stages(rule, due_at, window)
        fired = [stage for stage, at in stages if at <= self.now]
        return fired, next_stage_at(stages, fired)

    def _due_timing(self, rule: Rule, window: int) -> tuple[datetime, list[str], datetime]:
        """A due moment whose first reminder has passed and nothing later has: exactly one stage due now."""
        if rule.reminder_leads_hours:  # e.g. 14 and 3 days before a preservation expires
            leads = sorted(rule.reminder_leads_hours)
            low, high = (leads[0] * 3_600 if len(leads) > 1 else 0), leads[-1] * 3_600
        else:
            low, high = 0, max(window * 0.2, 3_600)
        due_at = self.now + timedelta(seconds=low + (high - low) * self.rng.uniform(0.05, 0.95))
        stages = _stages(rule, due_at, window)
        first_at = stages[0][1]
        assert first_at <= self.now < stages[1][1], (rule.code, stages)
        return due_at, [], first_at

    def _closed(
        self, request_id: uuid.UUID, template: Template, status: str, action: str, urgency: str, closed_at: datetime
    ) -> tuple[Any, ...]:
        """The clock a closed (or approved) request ran last, now met, missed or cancelled by `action`."""
        code = "internal-review"
        if template.expiry_rule and status in ("fulfilled", "expired"):
            code = template.expiry_rule
        elif status in ("fulfilled", "refused") and template.response_rules:
            code = template.response_rules[0]
        rule = self.world.rules[code]
        window = self._window(rule, urgency, template.instrument) or 86_400
        started_at = closed_at - timedelta(seconds=window * self.rng.uniform(0.2, 1.1))
        due_at = started_at + timedelta(seconds=window)
        outcome = "met" if status == "approved" else CLOSED_AS[status]
        return (
            uuid.UUID(int=self.rng.getrandbits(128), version=4), request_id, rule.id, rule.kind, rule.code, outcome,
            started_at, due_at, window, _explanation(rule, started_at, due_at, urgency), None, None, [],
            closed_at, action, started_at, [], [],
        )  # fmt: skip

    def _audit(
        self,
        values: dict[str, Any],
        owner: Organisation,
        authority: Organisation,
        creator: uuid.UUID,
        path: list[tuple[str, str]],
        created_at: datetime,
        updated_at: datetime,
    ) -> list[tuple[Any, ...]]:
        """The request's hash chain: `create` with the snapshot as filed, then one event per action.

        The canonical content is built here directly (ids as text, the snapshot encoded once and
        spliced in raw) because it is the hot loop of the seed; the first chain of every seeding
        process is checked against `mla.audit.chain.keyed_hash`, so the two cannot drift apart.
        """
        incoming = values["direction"] == "incoming"
        first_status = "received" if incoming else "draft"
        filed = {**values, "status": first_status, "assignee_id": None, "version": 1, "updated_at": created_at,
                 "counterparty_references": [], "channel_reference": None, "postponed_until": None}  # fmt: skip
        snapshot = msgspec.json.encode({name: filed[name] for name in SNAPSHOT_FIELDS}, order="sorted")
        created = b'{"after":' + snapshot + b"}"
        creator_roles = ["central_authority"] if incoming else ["prosecutor"]
        ids = {"creator": str(creator), "officer": str(authority.members[0].id), None: None}
        common = {
            "chain": f"request:{values['id']}",
            "organisation_id": str(owner.id),
            "request_id": str(values["id"]),
            "case_id": str(values["case_id"]),
        }
        rows: list[tuple[Any, ...]] = []
        previous: str | None = None
        step = (updated_at - created_at) / (len(path) or 1)
        status = first_status
        for seq, (action, to_status) in enumerate([("create", first_status), *path], start=1):
            if action == "create":
                actor, roles, changes = "creator", creator_roles, created
            elif action == "lapse":
                actor, roles, changes = None, ["system"], b"{}"
            elif action in OWNER_ACTIONS and not incoming:
                actor, roles, changes = "creator", ["prosecutor"], b"{}"
            else:
                actor, roles, changes = "officer", ["central_authority"], b"{}"
            at = created_at + step * (seq - 1)
            checks = CHECKS_JSON if action in ("submit", "approve") else None
            reason = "Recorded by the benchmark seed." if action in REASONED_ACTIONS else None
            content = {
                **common, "seq": seq, "at": at.isoformat(), "actor_id": ids[actor], "actor_roles": roles,
                "action": action, "from_status": None if action == "create" else status, "to_status": to_status,
                "changes": msgspec.Raw(changes), "checks": None if checks is None else msgspec.Raw(checks),
                "reason": reason, "prev_hash": previous, "key_id": BENCH_KEYRING.current,
            }  # fmt: skip
            encoded = msgspec.json.encode(content, order="sorted")
            digest = hmac.new(BENCH_KEYRING.current_key, encoded, hashlib.sha256).hexdigest()
            rows.append((
                common["chain"], seq, at, None if actor is None else (creator if actor == "creator" else
                authority.members[0].id), roles, owner.id, values["id"], values["case_id"], action,
                content["from_status"], to_status, changes.decode(), None if checks is None else checks.decode(),
                reason, previous, digest, BENCH_KEYRING.current,
            ))  # fmt: skip
            previous, status = digest, to_status
        if not self._hash_checked:
            _check_against_event_hash(rows)
            self._hash_checked = True
        return rows


def _check_against_event_hash(rows: list[tuple[Any, ...]]) -> None:
    """Recompute the chain with the application's own function: the seed's hashes must be the real ones."""
    key = BENCH_KEYRING.current_key
    for row in rows:
        event = SimpleNamespace(**dict(zip(AUDIT_COLUMNS, row, strict=True)))
        event.changes = msgspec.json.decode(event.changes)
        event.checks = None if event.checks is None else msgspec.json.decode(event.checks)
        if keyed_hash(event, key) != event.hash:
            raise AssertionError(f"seeded audit hash differs from mla.audit.chain.keyed_hash at {event.chain}")


def _stages(rule: Rule, due_at: datetime, window: int) -> list[tuple[str, datetime]]:
    """The alert stages `mla.deadlines.service.schedule` stores on a deadline of this rule."""
    return alert_stages(
        due_at,
        timedelta(seconds=window),
        rule.reminder_leads_hours,
        met_when_passed=rule.met_when_passed,
        lapses_request=rule.lapses_request,
    )


def _explanation(rule: Rule, started_at: datetime, due_at: datetime, urgency: str) -> str:
    amount, unit = rule.durations[urgency]
    return (
        f"Opened by `{rule.opens_on}` at {started_at.isoformat()}; {amount or 'the instrument'} "
        f"{unit.replace('_', ' ')} ({urgency}) run to {due_at.isoformat()}.\nLegal source: {rule.source}"
    )


def chunks(start: int, stop: int, size: int) -> Iterator[range]:
    for first in range(start, stop, size):
        yield range(first, min(first + size, stop))
