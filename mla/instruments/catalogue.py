"""The seeded legal-basis catalogue (SPEC §4, §11; sources in the domain brief, DOMAIN.md).

One `InstrumentCreate` per legal basis a request may rest on. `seed_catalogue` inserts the
entries whose code is missing and never touches an existing row, so an admin's edits survive
every restart; the values here are only the starting point.

How the fields are chosen (the checks in `mla.checks.rules` read them):

- `request_types`: what the article lets one ask for. An emergency European Production Order is
  still a `production` order (with urgency `emergency`); `emergency_disclosure` is kept for
  disclosure without an order (2AP art 9 via the 24/7 network, a provider's voluntary policy).
- `directions`: treaties between states work both ways (`outgoing`, `incoming`). Orders and
  requests sent straight to a provider abroad are `outgoing` only: an incoming one is addressed
  to a provider, not to us (an EPOC notified to us as enforcing authority is not modelled).
- `target_kinds`: `provider` for direct-to-provider instruments, `state` for everything that goes
  through a central authority or a 24/7 point of contact, including preservation under Budapest
  art 29 and UNCC art 42 (the requested state orders its provider to preserve).
- `requires_dual_criminality`: true where the requested state takes coercive measures on our
  behalf (MLA, compelled production), because its law may refuse without dual criminality
  (Budapest art 25(4)-(5)): the flag only makes an officer attest it. Preservation never needs it
  (Budapest art 29(3), unless the requested Party reserved art 29(4)). Every value is an editable
  default: a bilateral treaty or a Party's reservations may say otherwise.
- `preservation_days` / `extension_days`: the preservation period counted from receipt of the
  request (the transmission, or the receipt time the counterparty acknowledged), and the length of
  one extension (the default for `extend`); None where the instrument preserves nothing.
- `max_extensions`: how many extensions the instrument allows, each of at most `extension_days`
  (EPOC-PR: one of 30 days, art 11(1); 18 U.S.C. § 2703(f)(2): one renewal of 90 days); None where
  it sets no cap (Budapest art 29(7), UNCC: renewed requests, and preservation continues pending
  the decision once the follow-up request is sent).
- `source_verified`: False where articles or periods could not be checked against the texts at
  hand (the UN Convention's article numbers, the Second Additional Protocol's art 7 and 8 periods).

Deliberately not seeded as separate legal bases: Budapest arts 26 (spontaneous information),
28 (confidentiality and limits on use: recorded as conditions of an answer), 30 (expedited
disclosure of preserved traffic data: the requested Party discloses it while executing an art 29
request, so it is recorded as an outcome of that request with `record_traffic_disclosure`, not
filed as a request of its own), 32 (trans-border access without a request), 35 and UNCC art 41
(the 24/7 network is the channel for arts 29-30 and 42-43, not a basis of its own).

The UN Convention against Cybercrime's article numbers are unverified (DOMAIN.md): its
citations say so.
"""

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.enums import CounterpartyKind, DataCategory, Direction, RequestType
from mla.instruments import repository, service
from mla.instruments.schemas import InstrumentCreate

__all__ = ["CATALOGUE", "seed_catalogue"]

_BOTH_WAYS = [Direction.OUTGOING, Direction.INCOMING]
_OUTGOING = [Direction.OUTGOING]
_STATE = [CounterpartyKind.STATE]
_PROVIDER = [CounterpartyKind.PROVIDER]
_ALL_DATA = list(DataCategory)
_SUBSCRIBER = [DataCategory.SUBSCRIBER]
# Expedited disclosure of preserved traffic data covers what identifies the providers and the
# route of a communication: traffic data, including the IP addresses that identify a user.
_TRAFFIC = [DataCategory.IP_IDENTIFICATION, DataCategory.TRAFFIC]
_NON_CONTENT = [DataCategory.SUBSCRIBER, DataCategory.IP_IDENTIFICATION, DataCategory.TRAFFIC]

_BUDAPEST = "Council of Europe Convention on Cybercrime (Budapest, ETS No. 185)"
_2AP = (
    "Second Additional Protocol to the Convention on Cybercrime on enhanced co-operation and "
    "disclosure of electronic evidence (CETS No. 224)"
)
_UNCC = "United Nations Convention against Cybercrime (General Assembly resolution 79/243, adopted 24 December 2024)"
_EU_REGULATION = (
    "Regulation (EU) 2023/1543 of 12 July 2023 on European Production Orders and European "
    "Preservation Orders for electronic evidence in criminal proceedings (applicable from "
    "18 August 2026)"
)

# Budapest art 29(7) and UNCC art 42 set a minimum of 60 days and then keep the data preserved
# pending the decision once the follow-up MLA request is received (model that with `supersede`).
# Neither sets an extension period: 60 days is our editable default for a renewed request.
_TREATY_PRESERVATION_DAYS = 60
_TREATY_EXTENSION_DAYS = 60


_ENTRIES = (
    # --- UN Convention against Cybercrime (2024) ----------------------------------------------
    InstrumentCreate(
        code="uncc-40",
        title="UN Convention against Cybercrime: mutual legal assistance (general principles)",
        citation=(
            f"{_UNCC}, art 40 (general principles and procedures relating to mutual legal "
            "assistance), subject to the conditions and safeguards of art 24 incl. "
            "proportionality (unverified)"
        ),
        request_types=[RequestType.MLA],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=_ALL_DATA,
        requires_dual_criminality=True,
        source_verified=False,
    ),
    InstrumentCreate(
        code="uncc-42",
        title="UN Convention against Cybercrime: expedited preservation of stored electronic data",
        citation=(
            f"{_UNCC}, art 42 (international cooperation for the expedited preservation of stored "
            "electronic data: preserved for not less than 60 days, sent through the 24/7 network "
            "of art 41) (unverified)"
        ),
        request_types=[RequestType.PRESERVATION],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=_ALL_DATA,
        # Modelled on Budapest art 29(3); the UNCC text on dual criminality is unverified.
        requires_dual_criminality=False,
        preservation_days=_TREATY_PRESERVATION_DAYS,
        extension_days=_TREATY_EXTENSION_DAYS,
        max_extensions=None,  # no cap: renewed requests
        source_verified=False,
    ),
    InstrumentCreate(
        code="uncc-43",
        title="UN Convention against Cybercrime: expedited disclosure of preserved traffic data",
        citation=(
            f"{_UNCC}, art 43 (international cooperation for the expedited disclosure of preserved "
            "traffic data, enough to identify the service providers and the path of the "
            "communication) (unverified)"
        ),
        request_types=[RequestType.TRAFFIC_DISCLOSURE],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=_TRAFFIC,
        source_verified=False,
    ),
    InstrumentCreate(
        code="uncc-44",
        title="UN Convention against Cybercrime: mutual legal assistance in accessing stored data",
        citation=(
            f"{_UNCC}, art 44 (mutual legal assistance in accessing stored electronic data: search, "
            "seizure and disclosure) (unverified)"
        ),
        request_types=[RequestType.MLA],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=_ALL_DATA,
        requires_dual_criminality=True,
        source_verified=False,
    ),
    # --- Budapest Convention (ETS 185), arts 25-35 ---------------------------------------------
    InstrumentCreate(
        code="budapest-25",
        title="Budapest Convention: mutual assistance (general principles and procedures)",
        citation=(
            f"{_BUDAPEST}, art 25 (general principles relating to mutual assistance; urgent "
            "requests by fax or e-mail with confirmation to follow, art 25(3); dual criminality "
            "judged on the conduct, art 25(5)) and art 27 (procedures in the absence of an "
            "applicable treaty; refusal grounds art 27(4), postponement art 27(5))"
        ),
        request_types=[RequestType.MLA],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=_ALL_DATA,
        requires_dual_criminality=True,
    ),
    InstrumentCreate(
        code="budapest-29",
        title="Budapest Convention: expedited preservation of stored computer data",
        citation=(
            f"{_BUDAPEST}, art 29 (expedited preservation of stored computer data: preserved for "
            "not less than 60 days and, once the mutual assistance request is received, pending "
            "its decision, art 29(7); no dual criminality required, art 29(3), unless reserved "
            "under art 29(4)); sent through the 24/7 network, art 35. Traffic data the requested Party "
            "discloses while executing it, enough to identify a provider in another State and the path of the "
            "communication (art 30), is recorded on this request"
        ),
        request_types=[RequestType.PRESERVATION],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=_ALL_DATA,
        requires_dual_criminality=False,  # art 29(3)
        preservation_days=_TREATY_PRESERVATION_DAYS,
        extension_days=_TREATY_EXTENSION_DAYS,
        max_extensions=None,  # no cap: renewed requests
    ),
    InstrumentCreate(
        code="budapest-31",
        title="Budapest Convention: mutual assistance regarding accessing of stored computer data",
        citation=(
            f"{_BUDAPEST}, art 31 (mutual assistance regarding accessing of stored computer data: "
            "search or similar access, seizure or similar securing, and disclosure; on an "
            "expedited basis where the data are vulnerable to loss or modification, art 31(3))"
        ),
        request_types=[RequestType.MLA],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=_ALL_DATA,
        requires_dual_criminality=True,
    ),
    InstrumentCreate(
        code="budapest-33",
        title="Budapest Convention: mutual assistance in the real-time collection of traffic data",
        citation=f"{_BUDAPEST}, art 33 (mutual assistance in the real-time collection of traffic data)",
        request_types=[RequestType.MLA],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=_TRAFFIC,
        requires_dual_criminality=True,
    ),
    InstrumentCreate(
        code="budapest-34",
        title="Budapest Convention: mutual assistance regarding the interception of content data",
        citation=f"{_BUDAPEST}, art 34 (mutual assistance regarding the interception of content data)",
        request_types=[RequestType.MLA],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=[DataCategory.CONTENT],
        requires_dual_criminality=True,
    ),
    # --- Second Additional Protocol (CETS 224), arts 6-10 --------------------------------------
    InstrumentCreate(
        code="2ap-6",
        title="Second Additional Protocol: request for domain name registration information",
        citation=(
            f"{_2AP}, art 6 (request for domain name registration information, sent directly to "
            "an entity providing domain name registration services in another Party)"
        ),
        request_types=[RequestType.DOMAIN_REGISTRATION],
        directions=_OUTGOING,
        target_kinds=_PROVIDER,
        # Registration data identifies or contacts the registrant: treated as subscriber data.
        data_categories=_SUBSCRIBER,
    ),
    InstrumentCreate(
        code="2ap-7",
        title="Second Additional Protocol: disclosure of subscriber information by a provider",
        citation=(
            f"{_2AP}, art 7 (disclosure of subscriber information: an order sent directly to a "
            "service provider in another Party; 30 days before falling back on art 8 or mutual "
            "assistance (unverified))"
        ),
        request_types=[RequestType.SUBSCRIBER_INFO],
        directions=_OUTGOING,
        target_kinds=_PROVIDER,
        data_categories=_SUBSCRIBER,
        source_verified=False,
    ),
    InstrumentCreate(
        code="2ap-8",
        title="Second Additional Protocol: giving effect to orders from another Party",
        citation=(
            f"{_2AP}, art 8 (giving effect to orders from another Party for expedited production "
            "of subscriber information and traffic data; served within 45 days, produced within "
            "20 days for subscriber information and 45 days for traffic data (unverified))"
        ),
        request_types=[RequestType.PRODUCTION],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=_NON_CONTENT,
        # The requested Party compels its provider and may apply its own refusal grounds.
        requires_dual_criminality=True,
        source_verified=False,
    ),
    InstrumentCreate(
        code="2ap-9",
        title="Second Additional Protocol: expedited disclosure of stored data in an emergency",
        citation=(
            f"{_2AP}, art 9 (expedited disclosure of stored computer data in an emergency, "
            "requested through the 24/7 point of contact, without a mutual assistance request)"
        ),
        request_types=[RequestType.EMERGENCY_DISCLOSURE],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=_ALL_DATA,
    ),
    InstrumentCreate(
        code="2ap-10",
        title="Second Additional Protocol: emergency mutual assistance",
        citation=f"{_2AP}, art 10 (emergency mutual assistance, on an expedited basis)",
        request_types=[RequestType.MLA],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=_ALL_DATA,
        requires_dual_criminality=True,
    ),
    # --- EU e-evidence Regulation 2023/1543 ----------------------------------------------------
    InstrumentCreate(
        code="eu-epoc",
        title="European Production Order Certificate (EPOC)",
        citation=(
            f"{_EU_REGULATION}, art 4 (issuing authority; traffic and content orders by a judge "
            "or court; emergency orders issued without prior validation are validated within 48 "
            "hours, art 4(5)), art 5 (conditions: necessary and proportionate; traffic and content "
            "only for offences punishable by at least 3 years or listed offences), art 8 "
            "(notification of the enforcing authority for traffic and content data), art 10 (data "
            "within 10 days of receipt, art 10(3), or 8 hours in an emergency, art 10(4)), art 12 "
            "(grounds for refusal by the enforcing authority within 10 days or 96 hours)"
        ),
        # An emergency EPOC is a production order with urgency `emergency` (art 10(4)).
        request_types=[RequestType.PRODUCTION],
        directions=_OUTGOING,
        target_kinds=_PROVIDER,
        data_categories=_ALL_DATA,
        # No general requirement; dual criminality is an art 12 refusal ground of a notified
        # enforcing authority, with listed exceptions. Flag it per case if it applies.
        requires_dual_criminality=False,
    ),
    InstrumentCreate(
        code="eu-epoc-pr",
        title="European Preservation Order Certificate (EPOC-PR)",
        citation=(
            f"{_EU_REGULATION}, art 6 (conditions for a European Preservation Order), art 11(1) "
            "(preservation ends 60 days after receipt unless the issuing authority confirms that a "
            "subsequent request for production was issued, then until production, or extends it "
            "once by 30 days within the 60 days)"
        ),
        request_types=[RequestType.PRESERVATION],
        directions=_OUTGOING,
        target_kinds=_PROVIDER,
        data_categories=_ALL_DATA,
        preservation_days=60,  # art 11(1)
        extension_days=30,  # art 11(1)
        max_extensions=1,  # art 11(1)
    ),
    # --- Bilateral and provider-facing -----------------------------------------------------------
    InstrumentCreate(
        code="mlat",
        title="Bilateral mutual legal assistance treaty",
        citation=(
            "Bilateral mutual legal assistance treaty between the requesting and the requested "
            "state (generic: name the treaty and its article in the request); between Parties to "
            "the Budapest Convention the treaty applies in place of its art 27 (art 27(1)), with "
            "the treaty's conditions and refusal grounds (art 25(4))"
        ),
        request_types=[RequestType.MLA],
        directions=_BOTH_WAYS,
        target_kinds=_STATE,
        data_categories=_ALL_DATA,
        requires_dual_criminality=True,
    ),
    InstrumentCreate(
        code="us-2703f",
        title="Preservation letter to a US provider",
        citation=(
            "18 U.S.C. § 2703(f) (preservation of records and other evidence pending legal "
            "process: 90 days, extended once by another 90 days on a renewed request, "
            "§ 2703(f)(2)). The statute binds providers on the request of a US governmental "
            "entity (§ 2711(4)); a foreign authority's letter is honoured by provider practice, "
            "or goes through the US 24/7 point of contact as a Budapest art 29 request. The data "
            "itself then needs mutual legal assistance or a CLOUD Act agreement (18 U.S.C. § 2523)"
        ),
        request_types=[RequestType.PRESERVATION],
        directions=_OUTGOING,
        target_kinds=_PROVIDER,
        data_categories=_ALL_DATA,
        preservation_days=90,
        extension_days=90,
        max_extensions=1,  # § 2703(f)(2): one renewal
    ),
    InstrumentCreate(
        code="provider-emergency",
        title="Provider voluntary emergency disclosure",
        citation=(
            "Voluntary disclosure under the provider's emergency disclosure policy. For US "
            "providers, 18 U.S.C. § 2702(b)(8) (contents) and § 2702(c)(4) (other records) allow "
            "disclosure to a governmental entity, which § 2711(4) limits to US authorities, where "
            "the provider believes in good faith that an emergency involving danger of death or "
            "serious physical injury requires it without delay. To a foreign authority, records "
            "other than contents may be disclosed under § 2702(c)(6); contents have no statutory "
            "emergency route (use 2AP art 9 or emergency mutual assistance)"
        ),
        request_types=[RequestType.EMERGENCY_DISCLOSURE],
        directions=_OUTGOING,
        target_kinds=_PROVIDER,
        data_categories=_ALL_DATA,
    ),
    InstrumentCreate(
        code="provider-voluntary",
        title="Provider voluntary disclosure of non-content data",
        citation=(
            "Voluntary disclosure under the provider's law-enforcement guidelines; for US "
            "providers 18 U.S.C. § 2702(c)(6) (records other than contents to any person other "
            "than a governmental entity, which § 2711(4) limits to US authorities); contents "
            "need mutual legal assistance"
        ),
        request_types=[RequestType.SUBSCRIBER_INFO, RequestType.PRODUCTION],
        directions=_OUTGOING,
        target_kinds=_PROVIDER,
        data_categories=_NON_CONTENT,
    ),
)

# A round trip through msgspec validates every entry as the API would (code pattern, text
# lengths, enum values) when the module is imported, and gives each entry its own lists.
CATALOGUE: tuple[InstrumentCreate, ...] = tuple(
    msgspec.convert(msgspec.to_builtins(entry), InstrumentCreate) for entry in _ENTRIES
)


async def seed_catalogue(session: AsyncSession, clock: Clock) -> int:
    """Insert every catalogue entry whose code is missing; return how many were inserted.

    Never updates an existing instrument, so admin edits survive re-seeding. Each insert is
    audited with the system (actor None) as actor. Runs in the caller's transaction; two seeders
    racing on an empty table make one of them fail on the unique code, and the retry inserts
    nothing.
    """
    inserted = 0
    for entry in CATALOGUE:
        if await repository.instrument(session, entry.code) is None:
            await service.create_instrument(session, clock, None, entry)
            inserted += 1
    return inserted
