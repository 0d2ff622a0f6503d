"""The default deadline rules of SPEC §6, each with its legal source; seeded once, then admin-editable.

Periods taken from a legal text count `legal` (Reg. 1182/71 arts 3-4, mla/deadlines/arithmetic.py)
on the calendar of the party who must act; our own service levels count `elapsed`.
"""

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.deadlines import rules_repository
from mla.deadlines.models import DeadlineRule

CALENDAR, BUSINESS, HOURS = "calendar_days", "business_days", "hours"
LEGAL, ELAPSED = "legal", "elapsed"
EPOC_PRESERVATION_AND_PRODUCTION = ["eu-epoc", "eu-epoc-pr"]
MLA_INSTRUMENTS = ["mlat", "uncc-40", "uncc-44", "budapest-25", "budapest-31", "2ap-10"]
CANCEL_ON = ("withdraw", "reject", "refuse")


@dataclass(frozen=True)
class RuleSeed:
    code: str
    name: str
    kind: str
    source: str
    opens_on: str
    meets_on: list[str]
    routine: tuple[int | None, str]
    urgent: tuple[int | None, str]
    emergency: tuple[int | None, str]
    instrument_codes: list[str] = field(default_factory=list)
    request_types: list[str] = field(default_factory=list)
    directions: list[str] = field(default_factory=lambda: ["outgoing"])
    requires_category: str | None = None
    excludes_category: str | None = None
    amount_from_instrument: bool = False
    responsible: str = "owner"
    pauses_on_clarification: bool = False
    lapses_request: bool = False
    recurring: bool = False
    reminder_leads_hours: list[int] = field(default_factory=list)
    counting: str = ELAPSED
    source_verified: bool = True
    applies_when: str | None = None
    starts_at_receipt: bool = False
    outlives_fulfilment: bool = False
    met_when_passed: bool = False


# Incoming requests (issue 10 §5): a clock while received, and our own preservation period.
INCOMING_RULES = (
    RuleSeed(
        "incoming-acknowledge",
        "Acknowledge or decide an incoming request",
        "acknowledgement",
        "Own service level: accept or refuse a received request within 5 business days (urgent: 2, "
        "emergency: 4 hours); paused while the requesting state owes more information",
        "receive",
        ["accept", "refuse"],
        (5, BUSINESS),
        (2, BUSINESS),
        (4, HOURS),
        directions=["incoming"],
        responsible="central_authority",
        pauses_on_clarification=True,
    ),
    RuleSeed(
        "incoming-preservation-expiry",
        "Preservation for the requesting state",
        "preservation_expiry",
        "Budapest Convention art 29(7) and UN Convention against Cybercrime art 42 (unverified): preserved for "
        "not less than 60 days (the instrument's preservation days) from the preservation, and pending the "
        "decision once the follow-up request is received",
        "confirm_preserved",
        ["supersede"],
        (None, CALENDAR),
        (None, CALENDAR),
        (None, CALENDAR),
        instrument_codes=["budapest-29", "uncc-42"],
        request_types=["preservation"],
        directions=["incoming"],
        amount_from_instrument=True,
        responsible="central_authority",
        lapses_request=True,
        reminder_leads_hours=[14 * 24, 3 * 24],
        counting=LEGAL,
    ),
)

RULES = (
    RuleSeed(
        "internal-review",
        "Internal review by the central authority",
        "review",
        "Own service level: outgoing requests are reviewed within 5 business days "
        "(2 if urgent, 4 hours in an emergency).",
        "submit",
        ["approve", "return", "reject"],
        (5, BUSINESS),
        (2, BUSINESS),
        (4, HOURS),
        responsible="central_authority",
    ),
    RuleSeed(
        "epoc-response",
        "EPOC response",
        "response",
        "Reg. (EU) 2023/1543 art 10(3): the data within 10 days of receipt of the EPOC; art 10(2): where the "
        "enforcing authority was notified, at the end of its 10-day review unless it raised a ground for refusal; "
        "art 10(4): in an emergency without undue delay, at the latest within 8 hours of receipt",
        "transmit",
        ["fulfil"],
        (10, CALENDAR),
        (10, CALENDAR),
        (8, HOURS),
        instrument_codes=["eu-epoc"],
        request_types=["production"],
        responsible="counterparty",
        pauses_on_clarification=True,
        counting=LEGAL,
        starts_at_receipt=True,
    ),
    RuleSeed(
        "epoc-enforcing-review",
        "EPOC enforcing-authority review",
        "enforcing_review",
        "Reg. (EU) 2023/1543 art 8 and art 12(1): where an order for traffic data (other than data requested "
        "solely to identify the user) or content data was notified to the enforcing authority, it may raise grounds "
        "for refusal within 10 days of receipt of the notification (emergency: 96 hours); an objection after the "
        "data arrived means the data are deleted or their use restricted. Not closed by fulfilment: met when it "
        "passes without objection; an objection is recorded with `record_objection`",
        "transmit",
        ["record_objection"],
        (10, CALENDAR),
        (10, CALENDAR),
        (96, HOURS),
        instrument_codes=["eu-epoc"],
        request_types=["production"],
        responsible="enforcing_authority",
        counting=LEGAL,
        applies_when="notified_enforcing_authority",
        outlives_fulfilment=True,
        met_when_passed=True,
    ),
    RuleSeed(
        "epoc-emergency-validation",
        "Validation of an emergency order issued without prior validation",
        "validation",
        "Reg. (EU) 2023/1543 art 4(5): an order issued in an emergency without the prior validation its issuer "
        "needs is validated ex post without undue delay, at the latest within 48 hours; if it is not validated, "
        "withdraw the order at once and do not use the data obtained (delete them or restrict their use)",
        "transmit",
        ["validate"],
        (None, HOURS),
        (None, HOURS),
        (48, HOURS),
        instrument_codes=EPOC_PRESERVATION_AND_PRODUCTION,
        request_types=["production", "preservation"],
        counting=LEGAL,
        applies_when="issued_without_prior_validation",
        outlives_fulfilment=True,
    ),
    RuleSeed(
        "clarification-answer",
        "Our answer to the counterparty's request for clarification",
        "clarification_answer",
        "Own service level: answer within 10 days (emergency: 24 hours)",
        "request_clarification",
        ["provide_clarification"],
        (10, CALENDAR),
        (10, CALENDAR),
        (24, HOURS),
    ),
    RuleSeed(
        "epoc-pr-expiry",
        "European Preservation Order expiry",
        "preservation_expiry",
        "Reg. (EU) 2023/1543 art 11(1): the duty to preserve ends 60 days after receipt of the EPOC-PR, unless the "
        "issuing authority confirms that a subsequent request for production was issued (then the data stay "
        "preserved until production) or extends it, once, by 30 days, asked within the 60 days",
        "transmit",
        ["supersede"],
        (60, CALENDAR),
        (60, CALENDAR),
        (60, CALENDAR),
        instrument_codes=["eu-epoc-pr"],
        request_types=["preservation"],
        responsible="counterparty",
        lapses_request=True,
        reminder_leads_hours=[14 * 24, 3 * 24],
        counting=LEGAL,
        starts_at_receipt=True,
    ),
    RuleSeed(
        "preservation-expiry",
        "Preservation expiry",
        "preservation_expiry",
        "Budapest Convention art 29(7) and the UN Convention against Cybercrime (article unverified): preserved "
        "for not less than 60 days, no cap on renewals, and once the follow-up request for mutual assistance is "
        "received, until it is decided; 18 U.S.C. § 2703(f)(2): 90 days, one renewal of 90 days. The "
        "instrument's preservation days, counted from receipt of the request",
        "transmit",
        ["supersede"],
        (None, CALENDAR),
        (None, CALENDAR),
        (None, CALENDAR),
        instrument_codes=["budapest-29", "uncc-42", "us-2703f"],
        request_types=["preservation"],
        amount_from_instrument=True,
        responsible="counterparty",
        lapses_request=True,
        reminder_leads_hours=[14 * 24, 3 * 24],
        counting=LEGAL,
        starts_at_receipt=True,
    ),
    RuleSeed(
        "preservation-confirmation",
        "Confirmation of a preservation by the provider or requested state",
        "confirmation",
        "Own service level: a preservation sent but not confirmed within 2 days (emergency: 4 hours) is chased, "
        "while its expiry already runs from receipt",
        "transmit",
        ["confirm_preserved"],
        (2, CALENDAR),
        (2, CALENDAR),
        (4, HOURS),
        request_types=["preservation"],
        responsible="counterparty",
    ),
    RuleSeed(
        "2ap-7-response",
        "Subscriber information response (direct)",
        "response",
        "Second Additional Protocol (CETS 224) art 7: 30 days before falling back to art 8 or MLA (unverified)",
        "transmit",
        ["fulfil"],
        (30, CALENDAR),
        (30, CALENDAR),
        (None, CALENDAR),
        instrument_codes=["2ap-7"],
        request_types=["subscriber_info"],
        responsible="counterparty",
        pauses_on_clarification=True,
        counting=LEGAL,
        source_verified=False,
    ),
    RuleSeed(
        "2ap-8-subscriber",
        "Order under art 8: subscriber information",
        "response",
        "Second Additional Protocol (CETS 224) art 8: production within 20 days (unverified); emergency: expedited",
        "transmit",
        ["fulfil"],
        (20, CALENDAR),
        (20, CALENDAR),
        (20, CALENDAR),
        instrument_codes=["2ap-8"],
        excludes_category="traffic",
        responsible="counterparty",
        pauses_on_clarification=True,
        counting=LEGAL,
        source_verified=False,
    ),
    RuleSeed(
        "2ap-8-traffic",
        "Order under art 8: traffic data",
        "response",
        "Second Additional Protocol (CETS 224) art 8: production within 45 days (unverified); emergency: expedited",
        "transmit",
        ["fulfil"],
        (45, CALENDAR),
        (45, CALENDAR),
        (45, CALENDAR),
        instrument_codes=["2ap-8"],
        requires_category="traffic",
        responsible="counterparty",
        pauses_on_clarification=True,
        counting=LEGAL,
        source_verified=False,
    ),
    RuleSeed(
        "mla-follow-up",
        "MLA status follow-up",
        "follow_up",
        "No treaty deadline (Budapest art 27(7) asks for reasons of significant delay): follow up every 30 days "
        "(emergency: 2 days) after transmission and after each follow-up sent",
        "transmit",
        ["fulfil"],
        (30, CALENDAR),
        (30, CALENDAR),
        (2, CALENDAR),
        instrument_codes=MLA_INSTRUMENTS,
        request_types=["mla"],
        pauses_on_clarification=True,
        recurring=True,
    ),
    RuleSeed(
        "incoming-execution",
        "Execution of an incoming request",
        "execution",
        "Own service level: execute within 30 days (emergency: 24 hours); Budapest art 27(7): report significant delay",
        "accept",
        ["execute", "confirm_preserved"],
        (30, CALENDAR),
        (30, CALENDAR),
        (24, HOURS),
        directions=["incoming"],
        responsible="central_authority",
        pauses_on_clarification=True,  # while the requesting state owes more information, or we postponed
    ),
    *INCOMING_RULES,
)


def as_row(seed: RuleSeed, clock: Clock) -> DeadlineRule:
    now = clock.now()
    values = {
        name: getattr(seed, name)
        for name in seed.__dataclass_fields__
        if name not in ("routine", "urgent", "emergency")
    }
    for urgency in ("routine", "urgent", "emergency"):
        values[f"{urgency}_amount"], values[f"{urgency}_unit"] = getattr(seed, urgency)
    return DeadlineRule(**values, created_at=now, updated_at=now)


async def seed_rules(session: AsyncSession, clock: Clock) -> int:
    """Insert every default rule whose code is missing; never overwrites an admin's edit."""
    existing = await rules_repository.rule_codes(session)
    missing = [seed for seed in RULES if seed.code not in existing]
    await rules_repository.add_rules(session, [as_row(seed, clock) for seed in missing])
    if missing:
        entry = audit.AuditEntry(
            action="seed_deadline_rules", chain=audit.admin_chain(), changes={"codes": [seed.code for seed in missing]}
        )
        await audit.record(session, clock, None, entry)
    return len(missing)
