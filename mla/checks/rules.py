"""Legality and proportionality checks (SPEC §7): small pure functions over a request snapshot.

Each check is one function registered with `@check(code=..., severity=...)`; `evaluate` runs
them all in registration order and returns one `CheckResult` per check, applicable or not, so the
audit trail records the whole picture at the moment of approval. No database, no clock: the
service builds a `RequestSnapshot` from the ORM and applies the results in its transaction.

Attestable checks return `attestation_required(why)` when a `central_authority` officer must
decide; `evaluate` then resolves them against `snapshot.attestations[code]`.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from mla.enums import (
    CounterpartyKind,
    DataCategory,
    Direction,
    EmergencyGround,
    IdentifierKind,
    OrganisationKind,
    RequestType,
    Urgency,
)

Severity = Literal["blocking", "warning"]
Outcome = Literal["pass", "fail", "needs_attestation"]
AttestationOutcome = Literal["pass", "fail"]

NOT_APPLICABLE = "not applicable: "

# Reg. (EU) 2023/1543 art 5(4)(a): traffic and content only for offences punishable by >= 3 years.
EPOC_MIN_PENALTY_YEARS = 3.0
EPOC_INSTRUMENT_CODE = "eu-epoc"
EPOC_PR_INSTRUMENT_CODE = "eu-epoc-pr"
EU_REGULATION_CODES = frozenset({EPOC_INSTRUMENT_CODE, EPOC_PR_INSTRUMENT_CODE})
# Reg. 2023/1543 art 4(2): a production order for these needs a judge or court (identification
# data, which art 4(1) lets a prosecutor order, is the separate `ip_identification` category).
EPOC_JUDICIAL_CATEGORIES = frozenset({DataCategory.TRAFFIC, DataCategory.CONTENT})
# Preservation that needs no court order: Budapest art 29, 18 U.S.C. § 2703(f), and the UN
# Convention's expedited preservation (modelled on art 29; its text is unverified).
NO_COURT_PRESERVATION = {
    "budapest-29": "Budapest Convention art 29 (the requested Party preserves on request; no order of ours needed)",
    "uncc-42": "UN Convention against Cybercrime art 42 (modelled on Budapest art 29; unverified)",
    "us-2703f": "18 U.S.C. § 2703(f) (a letter of the requesting authority; no court order)",
}
# Who may issue an order a prosecutor may issue (Reg. 2023/1543 art 4(1)(a), 4(3)(a)).
JUDICIAL_OWNERS = frozenset(
    {OrganisationKind.PROSECUTION_SERVICE, OrganisationKind.CENTRAL_AUTHORITY, OrganisationKind.COURT}
)
# Reg. 2023/1543 art 3(18): an emergency is an imminent risk to a person or to critical infrastructure.
PERSON_GROUNDS = frozenset({EmergencyGround.LIFE, EmergencyGround.PHYSICAL_INTEGRITY, EmergencyGround.SAFETY})


# --- The snapshot: what the checks see of a request, independent of the ORM -----------------


@dataclass(frozen=True)
class OffenceView:
    description: str
    max_penalty_years: float


@dataclass(frozen=True)
class IdentifierView:
    kind: IdentifierKind
    value: str
    from_: datetime | None = None
    to: datetime | None = None


@dataclass(frozen=True)
class InstrumentView:
    code: str
    request_types: frozenset[RequestType]
    directions: frozenset[Direction]
    target_kinds: frozenset[CounterpartyKind]
    data_categories: frozenset[DataCategory]
    requires_dual_criminality: bool
    citation: str = ""


@dataclass(frozen=True)
class CounterpartyView:
    kind: CounterpartyKind
    country: str
    name: str = ""
    # Human-rights risk flag from the counterparty reference data (e.g. death penalty retained).
    death_penalty: bool = False


@dataclass(frozen=True)
class AttestationView:
    outcome: AttestationOutcome
    reason: str
    by: str  # who attested: the service passes the user's e-mail or id
    at: datetime | None = None


@dataclass(frozen=True)
class PartyView:
    """Where one state that must be bound stands with the treaty (`recorded` False: no record)."""

    country: str
    role: str  # "requesting state", "requested state", "provider's state"
    recorded: bool = True
    signed_on: date | None = None
    ratified_on: date | None = None
    in_force_on: date | None = None
    notes: str | None = None
    source: str = ""
    source_verified: bool = False

    def in_force(self, on: date) -> bool:
        return self.in_force_on is not None and self.in_force_on <= on

    def standing(self) -> str:
        """The record in words: "no record", "signed 2001-11-23, not ratified", ..."""
        if not self.recorded:
            return "no record"
        dates = (("signed", self.signed_on), ("ratified", self.ratified_on), ("in force", self.in_force_on))
        facts = [f"{name} {day.isoformat()}" for name, day in dates if day]
        if self.in_force_on is None:
            facts.append("not in force")
        if self.notes:
            facts.append(self.notes.rstrip("."))
        return ", ".join(facts)


@dataclass(frozen=True)
class TreatyView:
    """The treaty the instrument rests on and the states it must bind for this request."""

    code: str
    title: str
    kind: Literal["multilateral", "eu_regulation", "bilateral"]
    parties: tuple[PartyView, ...]


@dataclass(frozen=True)
class RequestSnapshot:
    type: RequestType
    direction: Direction
    data_categories: frozenset[DataCategory]
    identifiers: tuple[IdentifierView, ...]
    period_start: datetime | None
    period_end: datetime | None
    urgency: Urgency
    emergency_justification: str | None
    facts: str | None
    link_to_offence: str | None
    necessity: str | None
    proportionality: str | None
    offences: tuple[OffenceView, ...]
    instrument: InstrumentView
    counterparty: CounterpartyView
    attestations: Mapping[str, AttestationView] = field(default_factory=dict)  # check code -> attestation
    emergency_grounds: frozenset[EmergencyGround] = frozenset()
    issuing_judge_or_court: str | None = None
    order_reference: str | None = None
    issued_without_prior_validation: bool = False  # Reg. 2023/1543 art 4(5): an emergency order, validated ex post
    ex_post_validation: str | None = None  # who validated it ex post, when, the reference (once `validate` ran)
    treaty_reference: str | None = None
    owner_kind: OrganisationKind = OrganisationKind.PROSECUTION_SERVICE
    treaty: TreatyView | None = None  # None: domestic law or a provider's policy, no treaty between states
    as_of: date | None = None  # the day the checks are evaluated (treaties in force); None: any day


@dataclass(frozen=True)
class CheckSettings:
    max_content_days: int = 365
    many_identifiers: int = 10
    long_window_days: int = 180
    min_statement_chars: int = 40
    min_justification_chars: int = 20


@dataclass(frozen=True)
class CheckResult:
    code: str
    severity: Severity
    outcome: Outcome
    explanation: str
    attestable: bool = False
    attested_by: str | None = None
    attested_reason: str | None = None
    attested_at: datetime | None = None

    @property
    def attested(self) -> bool:
        return self.attested_by is not None

    @property
    def blocks_approval(self) -> bool:
        """A missing attestation always blocks; a failure blocks only if the check is blocking."""
        if self.outcome == "needs_attestation":
            return True
        return self.outcome == "fail" and self.severity == "blocking"

    def as_record(self) -> dict[str, object]:
        """JSON-ready form for the API and the audit event's `checks` field."""
        return {
            "code": self.code,
            "severity": self.severity,
            "outcome": self.outcome,
            "explanation": self.explanation,
            "attestable": self.attestable,
            "attested_by": self.attested_by,
            "attested_reason": self.attested_reason,
            "attested_at": self.attested_at.isoformat() if self.attested_at else None,
        }


# --- The registry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a check function returns; `evaluate` adds the code, severity and attestation."""

    outcome: Outcome
    explanation: str


def passed(explanation: str) -> Verdict:
    return Verdict("pass", explanation)


def failed(explanation: str) -> Verdict:
    return Verdict("fail", explanation)


def not_applicable(why: str) -> Verdict:
    return Verdict("pass", NOT_APPLICABLE + why)


def attestation_required(why: str) -> Verdict:
    return Verdict("needs_attestation", why)


CheckFunction = Callable[[RequestSnapshot, CheckSettings], Verdict]


@dataclass(frozen=True)
class RegisteredCheck:
    code: str
    severity: Severity
    attestable: bool
    function: CheckFunction


REGISTRY: dict[str, RegisteredCheck] = {}

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def check(
    *, code: str, severity: Severity = "blocking", attestable: bool = False
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check function under an API-visible snake_case `code`.

    Refuses a malformed or already registered code.
    """
    if not _CODE.match(code):
        raise ValueError(f"check code must be snake_case: {code!r}")
    if severity not in ("blocking", "warning"):
        raise ValueError(f"unknown severity {severity!r}")

    def register(function: CheckFunction) -> CheckFunction:
        if code in REGISTRY:
            raise ValueError(f"check {code!r} is already registered")
        REGISTRY[code] = RegisteredCheck(code, severity, attestable, function)
        return function

    return register


def unregister(code: str) -> None:
    """Remove a check (for tests registering a temporary one); unknown codes are ignored."""
    REGISTRY.pop(code, None)


def attestable_codes() -> frozenset[str]:
    """Codes an officer may attest; the attestation endpoint refuses any other code."""
    return frozenset(c.code for c in REGISTRY.values() if c.attestable)


def evaluate(snapshot: RequestSnapshot, settings: CheckSettings | None = None) -> list[CheckResult]:
    """Run every registered check, in registration order, and resolve attestations.

    Refuses (ValueError) a non-attestable check that asks for an attestation: a programming error.
    """
    settings = settings or CheckSettings()
    results = []
    for registered in REGISTRY.values():
        verdict = registered.function(snapshot, settings)
        if verdict.outcome == "needs_attestation":
            if not registered.attestable:
                raise ValueError(f"check {registered.code!r} is not attestable")
            attestation = snapshot.attestations.get(registered.code)
            if attestation is not None:
                results.append(_attested_result(registered, verdict, attestation))
                continue
            verdict = Verdict("needs_attestation", f"attestation required: {verdict.explanation}")
        results.append(
            CheckResult(
                code=registered.code,
                severity=registered.severity,
                outcome=verdict.outcome,
                explanation=verdict.explanation,
                attestable=registered.attestable,
            )
        )
    return results


def blocking_failures(results: Iterable[CheckResult]) -> list[CheckResult]:
    """The results that stop `approve`: failed blocking checks and missing or failed attestations."""
    return [result for result in results if result.blocks_approval]


def _attested_result(registered: RegisteredCheck, verdict: Verdict, attestation: AttestationView) -> CheckResult:
    when = f" on {attestation.at.isoformat()}" if attestation.at else ""
    return CheckResult(
        code=registered.code,
        severity=registered.severity,
        outcome=attestation.outcome,
        explanation=(
            f"attested {attestation.outcome} by {attestation.by}{when}: {attestation.reason} "
            f"(required because {verdict.explanation})"
        ),
        attestable=True,
        attested_by=attestation.by,
        attested_reason=attestation.reason,
        attested_at=attestation.at,
    )


# --- Text helpers shared by the statement checks --------------------------------------------

_PLACEHOLDERS = frozenset(
    {
        "n/a", "na", "n.a.", "none", "nil", "null", "tbd", "tba", "tbc", "todo", "to do",
        "to be completed", "to be confirmed", "to be determined", "see above", "see below",
        "see attached", "see file", "same as above", "as above", "-", "--", "...", "?", "x", "xxx",
        "test", "placeholder", "lorem ipsum",
    }
)  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+")


def _statement_defect(text: str | None, min_chars: int) -> str | None:
    """Why `text` is not a substantive statement, or None if it is."""
    if text is None or not text.strip():
        return "missing"
    normalised = " ".join(text.lower().split())
    if normalised in _PLACEHOLDERS or normalised.strip(".!:;,") in _PLACEHOLDERS:
        return f"placeholder {text.strip()!r}"
    if "lorem ipsum" in normalised:
        return "placeholder text"
    if len(normalised) < min_chars:
        return f"too short ({len(normalised)} < {min_chars} characters)"
    words = _WORD.findall(normalised)
    # Padding such as "tbd tbd tbd ..." or "aaaa...": real prose has several distinct words.
    if len(set(words)) < 3 or len(set("".join(words))) < 5:
        return "repeated characters or words, not a statement"
    return None


def _span(start: datetime | None, end: datetime | None) -> timedelta | None:
    if start is None or end is None:
        return None
    return end - start


def _names(values: Iterable[str]) -> str:
    return ", ".join(sorted(str(v) for v in values)) or "none"


def _instrument_label(instrument: InstrumentView) -> str:
    return f"{instrument.code} ({instrument.citation})" if instrument.citation else instrument.code


# --- Automatic checks -----------------------------------------------------------------------


@check(code="instrument_allows_request")
def instrument_allows_request(snapshot: RequestSnapshot, settings: CheckSettings) -> Verdict:
    """The legal basis allows this request type, direction and kind of target."""
    instrument = snapshot.instrument
    problems = []
    if snapshot.type not in instrument.request_types:
        problems.append(f"request type {snapshot.type} (allows: {_names(instrument.request_types)})")
    if snapshot.direction not in instrument.directions:
        problems.append(f"direction {snapshot.direction} (allows: {_names(instrument.directions)})")
    if snapshot.counterparty.kind not in instrument.target_kinds:
        problems.append(f"a {snapshot.counterparty.kind} as target (allows: {_names(instrument.target_kinds)})")
    label = _instrument_label(instrument)
    if problems:
        return failed(f"the legal basis {label} does not allow " + "; ".join(problems))
    return passed(
        f"the legal basis {label} allows a {snapshot.direction} {snapshot.type} request "
        f"to a {snapshot.counterparty.kind}"
    )


@check(code="data_categories_allowed")
def data_categories_allowed(snapshot: RequestSnapshot, settings: CheckSettings) -> Verdict:
    """The data categories sought are non-empty and covered by the instrument.

    The seeded catalogue limits 2ap-7 (CETS 224 art 7) and 2ap-6 (art 6, domain registration
    data, which is subscriber-type data) to `subscriber`.
    """
    label = _instrument_label(snapshot.instrument)
    if not snapshot.data_categories:
        return failed("no data category is sought; a request must name the data it asks for (precision)")
    outside = snapshot.data_categories - snapshot.instrument.data_categories
    if outside:
        return failed(
            f"the legal basis {label} does not cover {_names(outside)} data "
            f"(covers: {_names(snapshot.instrument.data_categories)})"
        )
    return passed(f"the legal basis {label} covers {_names(snapshot.data_categories)} data")


_STATEMENTS = ("facts", "link_to_offence", "necessity", "proportionality")


@check(code="statements_present")
def statements_present(snapshot: RequestSnapshot, settings: CheckSettings) -> Verdict:
    """Facts, link to the offence, necessity and proportionality are each stated in substance."""
    defects = []
    for name in _STATEMENTS:
        defect = _statement_defect(getattr(snapshot, name), settings.min_statement_chars)
        if defect:
            defects.append(f"{name} ({defect})")
    source = "Budapest Convention art 15; UN Convention against Cybercrime art 24; Reg. 2023/1543 art 5(2)"
    if defects:
        return failed(f"statements missing or not substantive: {'; '.join(defects)} — {source}")
    return passed(f"facts, link to offence, necessity and proportionality are stated — {source}")


@check(code="emergency_justified")
def emergency_justified(snapshot: RequestSnapshot, settings: CheckSettings) -> Verdict:
    """An emergency (urgency `emergency` or an `emergency_disclosure` request) is a risk to a person.

    Reg. 2023/1543 art 3(18): an imminent threat to the life, physical integrity or safety of a
    person, or to critical infrastructure whose disruption would cause one; other instruments
    (2AP art 9, 18 U.S.C. § 2702) speak of danger to a person only. A risk of losing evidence
    makes a request urgent, never an emergency. Fake emergency requests are a known attack, so the
    ground is named and justified in substance.
    """
    is_emergency = snapshot.urgency == Urgency.EMERGENCY or snapshot.type == RequestType.EMERGENCY_DISCLOSURE
    if not is_emergency:
        return not_applicable(f"urgency is {snapshot.urgency}")
    under_regulation = snapshot.instrument.code in EU_REGULATION_CODES
    source = "Reg. 2023/1543 art 3(18)" if under_regulation else "2AP art 9; 18 U.S.C. § 2702(b)(8), (c)(4)"
    meaning = "an imminent risk to the life, physical integrity or safety of a person" + (
        ", or to critical infrastructure whose disruption would put persons at such risk" if under_regulation else ""
    )
    grounds = snapshot.emergency_grounds
    recognised = grounds & (PERSON_GROUNDS | ({EmergencyGround.CRITICAL_INFRASTRUCTURE} if under_regulation else set()))
    if not recognised:
        return failed(f"{_why_no_emergency(grounds, under_regulation)}; an emergency means {meaning} — {source}")
    defect = _statement_defect(snapshot.emergency_justification, settings.min_justification_chars)
    if defect:
        return failed(f"an emergency needs a justification stating the risk; justification {defect} — {source}")
    return passed(f"emergency: imminent risk to {_names(recognised)}, justified — {source}")


def _why_no_emergency(grounds: frozenset[EmergencyGround], under_regulation: bool) -> str:
    if EmergencyGround.LOSS_OF_EVIDENCE in grounds:
        return "a risk of losing evidence makes a request urgent, not an emergency: file it as `urgent`"
    if EmergencyGround.CRITICAL_INFRASTRUCTURE in grounds and not under_regulation:
        return "a risk to critical infrastructure is an emergency only under Reg. 2023/1543"
    return "no emergency ground is named (emergency_grounds)"


@check(code="period_bounded")
def period_bounded(snapshot: RequestSnapshot, settings: CheckSettings) -> Verdict:
    """Start and end are given, start < end, identifier windows are ordered, content span is capped."""
    source = "Budapest Convention art 15 (limited scope and duration); precision of the request"
    start, end = snapshot.period_start, snapshot.period_end
    if start is None or end is None:
        missing = [name for name, value in (("period_start", start), ("period_end", end)) if value is None]
        return failed(f"the period is not bounded: {', '.join(missing)} missing — {source}")
    if start >= end:
        return failed(f"the period starts ({start.isoformat()}) at or after its end ({end.isoformat()}) — {source}")
    inverted = [
        ident.value
        for ident in snapshot.identifiers
        if ident.from_ is not None and ident.to is not None and ident.from_ >= ident.to
    ]
    if inverted:
        return failed(f"identifier windows start at or after their end: {', '.join(inverted)} — {source}")
    days = (end - start) / timedelta(days=1)
    if DataCategory.CONTENT in snapshot.data_categories and days > settings.max_content_days:
        return failed(
            f"content is sought over {days:g} days, more than the maximum of "
            f"{settings.max_content_days} days — {source}"
        )
    return passed(f"the period is bounded ({days:g} days) — {source}")


def _listed_offence_family(description: str) -> str | None:
    for family, pattern in _EPOC_LISTED_FAMILIES:
        if pattern.search(description):
            return family
    return None


def _keywords(*words: str) -> re.Pattern[str]:
    # Word start only, so "terroris" matches "terrorism" and "terrorist".
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + ")", re.IGNORECASE)


# Reg. 2023/1543 art 5(4)(b), matched on the offence description. Keyword matching is a heuristic:
# it cannot tell whether the offence was committed by means of an information system.
_EPOC_LISTED_FAMILIES = (
    (
        "attacks against information systems (Directive 2013/40/EU arts 3-8)",
        _keywords(
            "cyber attack", "cyber-attack", "cyberattack", "attack against information system",
            "attacks against information system", "illegal access", "unauthorised access",
            "unauthorized access", "system interference", "data interference", "illegal interception",
            "hacking", "ransomware", "malware", "botnet", "denial of service", "denial-of-service",
            "ddos", "computer intrusion",
        ),
    ),
    (
        "child sexual abuse and exploitation (Directive 2011/93/EU arts 3-7)",
        _keywords(
            "child sexual abuse", "child sexual exploitation", "sexual abuse of a child",
            "sexual abuse of children", "sexual exploitation of children", "child pornography",
            "child abuse material", "csam", "grooming", "solicitation of children",
        ),
    ),
    (
        "non-cash payment fraud (Directive (EU) 2019/713 arts 3-8)",
        _keywords(
            "non-cash payment", "payment card fraud", "credit card fraud", "card fraud", "carding",
            "skimming", "phishing", "payment instrument",
        ),
    ),
)  # fmt: skip
# Art 5(4)(c), its own point: terrorist offences, whatever the means used to commit them.
_TERRORISM = _keywords("terroris")


@check(code="epoc_offence_threshold")
def epoc_offence_threshold(snapshot: RequestSnapshot, settings: CheckSettings) -> Verdict:
    """Under `eu-epoc`, traffic or content only for offences of >= 3 years or a listed family.

    `ip_identification` counts as identification data (art 5(3)), available for any offence.
    Art 5(4)(d) (executing a custodial sentence of at least four months) is not modelled.
    """
    if snapshot.instrument.code != EPOC_INSTRUMENT_CODE:
        return not_applicable(f"the legal basis is {snapshot.instrument.code}, not {EPOC_INSTRUMENT_CODE}")
    restricted = snapshot.data_categories & {DataCategory.TRAFFIC, DataCategory.CONTENT}
    if not restricted:
        return not_applicable(
            "only subscriber or IP-identification data is sought, available for any offence (Reg. 2023/1543 art 5(3))"
        )
    source = "Reg. 2023/1543 art 5(4)"
    data = f"{_names(restricted)} data may be ordered"
    for offence in snapshot.offences:
        if offence.max_penalty_years >= EPOC_MIN_PENALTY_YEARS:
            return passed(
                f"{data}: {offence.description!r} carries a maximum of {offence.max_penalty_years:g} years "
                f"(at least {EPOC_MIN_PENALTY_YEARS:g}) — {source}(a)"
            )
    for offence in snapshot.offences:
        if _TERRORISM.search(offence.description):
            return passed(
                f"{data}: {offence.description!r} is a terrorist offence (Directive (EU) 2017/541 arts 3-12), "
                f"whatever the means used — {source}(c)"
            )
        family = _listed_offence_family(offence.description)
        if family:
            return passed(
                f"{data}: {offence.description!r} is a listed offence, {family}, committed wholly or partly by "
                f"means of an information system — {source}(b)"
            )
    highest = max((o.max_penalty_years for o in snapshot.offences), default=None)
    penalty = f"the highest maximum penalty is {highest:g} years" if highest is not None else "no offence is recorded"
    return failed(
        f"{_names(restricted)} data under a European Production Order needs an offence punishable by at least "
        f"{EPOC_MIN_PENALTY_YEARS:g} years (art 5(4)(a)), an offence committed by means of an information system "
        f"that art 5(4)(b) lists (cyber attacks, child sexual abuse material, non-cash payment fraud), or a "
        f"terrorist offence (art 5(4)(c)); {penalty} and none is listed — {source}"
    )


@check(code="issuer_competence")
def issuer_competence(snapshot: RequestSnapshot, settings: CheckSettings) -> Verdict:
    """The order comes from an authority that may issue it under the instrument (Reg. 2023/1543 art 4).

    EPOC for traffic or content: a judge or court, or validated by one (art 4(2)). EPOC for
    subscriber or IP-identification data and every European Preservation Order: a prosecutor may
    issue (art 4(1), 4(3)); another authority (law enforcement) needs validation, except that in an
    emergency it may issue those orders first and have them validated within 48 hours (art 4(5):
    `issued_without_prior_validation`, met by `validate`). Preservation under
    Budapest art 29 or 18 U.S.C. § 2703(f) needs no court. Other legal bases leave it to national law.
    """
    code = snapshot.instrument.code
    if code in NO_COURT_PRESERVATION:
        return passed(f"no court order is needed: {NO_COURT_PRESERVATION[code]}")
    if code not in EU_REGULATION_CODES:
        return not_applicable(f"{code} sets no issuing-authority rule the tracker models; national law decides")
    judicial = snapshot.data_categories & EPOC_JUDICIAL_CATEGORIES if code == EPOC_INSTRUMENT_CODE else frozenset()
    if snapshot.issued_without_prior_validation:
        return _without_prior_validation(snapshot, judicial)
    validation = _validation(snapshot)
    if judicial:
        if snapshot.owner_kind == OrganisationKind.COURT:
            return passed(f"a court issues this order for {_names(judicial)} data — Reg. 2023/1543 art 4(2)")
        if validation:
            return passed(f"{_names(judicial)} data: {validation} — Reg. 2023/1543 art 4(2)")
        return failed(
            f"a European Production Order for {_names(judicial)} data must be issued by a judge, a court or an "
            "investigating judge, or validated by one: name them (issuing_judge_or_court) and the order's reference "
            "(order_reference) — Reg. 2023/1543 art 4(2)"
        )
    article = "art 4(3)" if code == EPOC_PR_INSTRUMENT_CODE else "art 4(1)"
    what = "a European Preservation Order" if code == EPOC_PR_INSTRUMENT_CODE else "this order for identification data"
    if snapshot.owner_kind in JUDICIAL_OWNERS:
        return passed(f"a prosecutor may issue {what} — Reg. 2023/1543 {article}")
    if validation:
        return passed(f"{what} of a {snapshot.owner_kind}: {validation} — Reg. 2023/1543 {article}(b)")
    return failed(
        f"{what} by a {snapshot.owner_kind} must be validated by a judge, a court or a prosecutor: name them "
        f"(issuing_judge_or_court) and the order's reference (order_reference) — Reg. 2023/1543 {article}(b)"
    )


def _without_prior_validation(snapshot: RequestSnapshot, judicial: frozenset[DataCategory]) -> Verdict:
    """Reg. 2023/1543 art 4(5): in an emergency, an authority that needs validation (art 4(1)(b), 4(3)(b)) may
    issue an EPOC for subscriber or identification data, or an EPOC-PR, and seek validation within 48 hours."""
    source = "Reg. 2023/1543 art 4(5)"
    if judicial:
        return failed(
            f"only an order for subscriber or identification data, or a European Preservation Order, may be issued "
            f"without prior validation; {_names(judicial)} data need the order of a judge or court first "
            f"(art 4(2)) — {source}"
        )
    if snapshot.owner_kind in JUDICIAL_OWNERS:
        return failed(
            f"a {snapshot.owner_kind} issues this order alone and has no validation to wait for: clear "
            f"issued_without_prior_validation — {source}"
        )
    if snapshot.ex_post_validation:
        return passed(
            f"issued in an emergency without prior validation, validated ex post by {snapshot.ex_post_validation} "
            f"— {source}"
        )
    return passed(
        f"issued in an emergency without prior validation by a {snapshot.owner_kind}, pending validation: it must be "
        f"validated within 48 hours, or withdrawn and the data obtained not used — {source}"
    )


def _validation(snapshot: RequestSnapshot) -> str | None:
    """ "issued or validated by X (order Y)" when both are stated, else None."""
    if not (snapshot.issuing_judge_or_court or "").strip() or not (snapshot.order_reference or "").strip():
        return None
    return f"issued or validated by {snapshot.issuing_judge_or_court} (order {snapshot.order_reference})"


@check(code="scope_narrow", severity="warning")
def scope_narrow(snapshot: RequestSnapshot, settings: CheckSettings) -> Verdict:
    """Warn on many identifiers or long windows (overall period or any identifier's own window)."""
    source = "providers refuse overly broad requests; Budapest Convention art 15 (limited scope)"
    concerns = []
    if len(snapshot.identifiers) > settings.many_identifiers:
        concerns.append(f"{len(snapshot.identifiers)} identifiers (more than {settings.many_identifiers})")
    limit = timedelta(days=settings.long_window_days)
    span = _span(snapshot.period_start, snapshot.period_end)
    if span is not None and span > limit:
        concerns.append(f"a period of {span / timedelta(days=1):g} days (more than {settings.long_window_days})")
    for ident in snapshot.identifiers:
        window = _span(ident.from_, ident.to)
        if window is not None and window > limit:
            concerns.append(f"a window of {window / timedelta(days=1):g} days for {ident.value}")
    if concerns:
        return failed("the request may be too broad: " + "; ".join(concerns) + f" — {source}")
    return passed(f"{len(snapshot.identifiers)} identifiers over a narrow window — {source}")


# --- Attested checks ------------------------------------------------------------------------


@check(code="instrument_in_force", attestable=True)
def instrument_in_force(snapshot: RequestSnapshot, settings: CheckSettings) -> Verdict:
    """The treaty the instrument rests on is in force for the states it must bind, today.

    Both states (or the provider's state) for a convention; the issuing state for an EU regulation.
    A state with no record counts as not bound. Records whose source is unverified, and a bilateral
    treaty named in `treaty_reference`, need an officer's attestation.
    """
    treaty = snapshot.treaty
    if treaty is None:
        return not_applicable(f"{snapshot.instrument.code} rests on domestic law or a provider's policy, not a treaty")
    states = " and ".join(f"{p.country} ({p.role})" for p in treaty.parties)
    if treaty.kind == "bilateral":
        if not (snapshot.treaty_reference or "").strip():
            return failed(
                f"{snapshot.instrument.code} is a generic bilateral treaty: name the treaty and its article "
                "(treaty_reference)"
            )
        return attestation_required(f"confirm that {snapshot.treaty_reference} is in force between {states}")
    on = snapshot.as_of
    not_bound = [p for p in treaty.parties if not (p.in_force_on is not None if on is None else p.in_force(on))]
    day = f" on {on.isoformat()}" if on else ""
    if not_bound:
        return failed(
            f"{treaty.title} is not in force{day} for "
            + "; ".join(f"{p.country}, the {p.role} ({p.standing()})" for p in not_bound)
            + f"; if that has changed, an administrator records it (/api/v1/admin/treaties/{treaty.code}/parties/…)"
        )
    records = "; ".join(f"{p.country}: {p.standing()}" for p in treaty.parties)
    unverified = [p for p in treaty.parties if not p.source_verified]
    if unverified:
        return attestation_required(
            f"{treaty.title} is in force{day} for {states} according to unverified reference data ({records}; "
            f"source: {unverified[0].source}): confirm it with the treaty office"
        )
    return passed(f"{treaty.title} is in force{day} for {states} ({records})")


@check(code="dual_criminality", attestable=True)
def dual_criminality(snapshot: RequestSnapshot, settings: CheckSettings) -> Verdict:
    """The conduct is an offence in both states, where the instrument requires it."""
    if not snapshot.instrument.requires_dual_criminality:
        return not_applicable(f"the legal basis {snapshot.instrument.code} does not require dual criminality")
    return attestation_required(
        f"the legal basis {snapshot.instrument.code} requires dual criminality, judged on the conduct, "
        "not the offence's name — Budapest Convention art 25(5); Reg. 2023/1543 art 12"
    )


@check(code="human_rights_risk", attestable=True)
def human_rights_risk(snapshot: RequestSnapshot, settings: CheckSettings) -> Verdict:
    """Any exchange with a state, either direction, needs an officer's human-rights assessment.

    A provider is not a state: the data comes to us, so there is no foreign use to assess.
    """
    party = snapshot.counterparty
    if party.kind != CounterpartyKind.STATE:
        return not_applicable("the counterparty is a provider, not a state")
    flag = "; the state is flagged: death penalty (seek assurances)" if party.death_penalty else ""
    return attestation_required(
        f"assess the human-rights risk of the exchange with {party.name or party.country}{flag} — "
        "Budapest Convention arts 15, 27(4); Reg. 2023/1543 art 12 (manifest breach of a fundamental right)"
    )


@check(code="privileged_persons", attestable=True)
def privileged_persons(snapshot: RequestSnapshot, settings: CheckSettings) -> Verdict:
    """Always required: only an officer can say whether a target is a lawyer, journalist or MP."""
    return attestation_required(
        "confirm whether any target is a lawyer, journalist or parliamentarian (immunities, privileges, "
        "press freedom) — Reg. 2023/1543 arts 5, 12; Budapest Convention art 15"
    )
