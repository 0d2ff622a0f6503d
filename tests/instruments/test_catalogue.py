"""The seeded legal-basis catalogue (SPEC §4, §11), checked without a database."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from mla.checks.rules import (
    CheckResult,
    CounterpartyView,
    IdentifierView,
    InstrumentView,
    OffenceView,
    RequestSnapshot,
    evaluate,
)
from mla.enums import CounterpartyKind, DataCategory, Direction, IdentifierKind, RequestType, Urgency
from mla.instruments.catalogue import CATALOGUE
from mla.instruments.schemas import InstrumentCreate

SPEC_CODES = [
    "uncc-40", "uncc-42", "uncc-43", "uncc-44",
    "budapest-29", "budapest-31",
    "2ap-6", "2ap-7", "2ap-8", "2ap-9", "2ap-10",
    "eu-epoc", "eu-epoc-pr", "mlat", "us-2703f", "provider-emergency",
]  # fmt: skip

START = datetime(2026, 9, 1, tzinfo=UTC)
# "art 29", "arts 25", "§ 2703(f)"
ARTICLE = re.compile(r"\barts? \d+|§ ?\d+")


def entry(code: str) -> InstrumentCreate:
    return next(e for e in CATALOGUE if e.code == code)


def view(instrument: InstrumentCreate) -> InstrumentView:
    return InstrumentView(
        code=instrument.code,
        citation=instrument.citation,
        request_types=frozenset(instrument.request_types),
        directions=frozenset(instrument.directions),
        target_kinds=frozenset(instrument.target_kinds),
        data_categories=frozenset(instrument.data_categories),
        requires_dual_criminality=instrument.requires_dual_criminality,
    )


def snapshot(instrument: InstrumentCreate, **overrides: Any) -> RequestSnapshot:
    """A routine outgoing request on `instrument`, using its first type, target and categories."""
    values: dict[str, Any] = {
        "type": instrument.request_types[0],
        "direction": Direction.OUTGOING,
        "data_categories": frozenset(instrument.data_categories),
        "identifiers": (IdentifierView(IdentifierKind.EMAIL, "suspect@example.com"),),
        "period_start": START,
        "period_end": START + timedelta(days=30),
        "urgency": Urgency.ROUTINE,
        "emergency_justification": None,
        "facts": "The suspect sent ransom demands from the account between January and March 2026.",
        "link_to_offence": "The account's subscriber and messages identify who sent the ransom demands.",
        "necessity": "No other source identifies the sender; the provider holds the only copy.",
        "proportionality": "One account over thirty days, limited to the extortion campaign.",
        "offences": (OffenceView("extortion", 5),),
        "instrument": view(instrument),
        "counterparty": CounterpartyView(instrument.target_kinds[0], "IE", name="Example Mail Ltd"),
    }
    values.update(overrides)
    return RequestSnapshot(**values)


def result(code: str, snap: RequestSnapshot) -> CheckResult:
    return next(r for r in evaluate(snap) if r.code == code)


# --- Contents --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", SPEC_CODES)
def test_every_spec_code_is_in_the_catalogue_exactly_once(code: str) -> None:
    assert [e.code for e in CATALOGUE].count(code) == 1


def test_codes_are_unique() -> None:
    codes = [e.code for e in CATALOGUE]
    assert len(codes) == len(set(codes))


def test_budapest_30_is_an_outcome_of_an_art_29_request_not_a_legal_basis_of_its_own() -> None:
    """Art 30(1): the requested Party discloses preserved traffic data while executing an art 29 request."""
    assert "budapest-30" not in {e.code for e in CATALOGUE}
    assert "(art 30)" in entry("budapest-29").citation


@pytest.mark.parametrize("instrument", CATALOGUE, ids=lambda e: e.code)
def test_every_entry_is_valid_api_input(instrument: InstrumentCreate) -> None:
    as_json = msgspec.json.encode(instrument)
    assert msgspec.json.decode(as_json, type=InstrumentCreate) == instrument


@pytest.mark.parametrize("instrument", CATALOGUE, ids=lambda e: e.code)
def test_every_citation_names_an_article(instrument: InstrumentCreate) -> None:
    assert instrument.title.strip()
    assert ARTICLE.search(instrument.citation), instrument.citation


@pytest.mark.parametrize("code", ["uncc-40", "uncc-42", "uncc-43", "uncc-44"])
def test_un_convention_citations_say_their_article_numbers_are_unverified(code: str) -> None:
    assert "(unverified)" in entry(code).citation


def test_second_protocol_deadlines_are_cited_as_unverified() -> None:
    assert "30 days" in entry("2ap-7").citation and "(unverified)" in entry("2ap-7").citation
    assert "45 days" in entry("2ap-8").citation and "(unverified)" in entry("2ap-8").citation


@pytest.mark.parametrize(
    ("code", "article"),
    [
        ("budapest-29", "art 29"),
        ("budapest-31", "art 31"),
        ("2ap-6", "art 6"),
        ("2ap-7", "art 7"),
        ("2ap-8", "art 8"),
        ("2ap-9", "art 9"),
        ("2ap-10", "art 10"),
        ("eu-epoc", "2023/1543"),
        ("eu-epoc-pr", "art 11"),
        ("us-2703f", "§ 2703(f)"),
        ("provider-emergency", "§ 2702(b)(8)"),
        ("provider-emergency", "§ 2702(c)(6)"),
    ],
)
def test_citation_names_the_instruments_own_article(code: str, article: str) -> None:
    assert article in entry(code).citation


# --- Data categories -------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["2ap-6", "2ap-7"])
def test_direct_second_protocol_requests_cover_subscriber_data_only(code: str) -> None:
    assert set(entry(code).data_categories) == {DataCategory.SUBSCRIBER}


def test_disclosure_of_preserved_traffic_data_covers_traffic_and_ip_identification() -> None:
    assert set(entry("uncc-43").data_categories) == {DataCategory.TRAFFIC, DataCategory.IP_IDENTIFICATION}


@pytest.mark.parametrize("code", ["eu-epoc", "eu-epoc-pr", "budapest-29", "uncc-42", "us-2703f"])
def test_production_and_preservation_orders_cover_every_category(code: str) -> None:
    assert set(entry(code).data_categories) == set(DataCategory)


def test_2ap_8_orders_never_cover_content() -> None:
    assert DataCategory.CONTENT not in entry("2ap-8").data_categories


# --- Preservation periods --------------------------------------------------------------------


def test_epoc_pr_preserves_60_days_extendable_once_by_30() -> None:
    """Reg. 2023/1543 art 11(1)."""
    pr = entry("eu-epoc-pr")
    assert (pr.preservation_days, pr.extension_days, pr.max_extensions) == (60, 30, 1)


def test_us_preservation_letter_lasts_90_days_renewable_once_by_90() -> None:
    """18 U.S.C. § 2703(f)(2); binding on US governmental entities' requests only (§ 2711(4))."""
    letter = entry("us-2703f")
    assert (letter.preservation_days, letter.extension_days, letter.max_extensions) == (90, 90, 1)
    assert "US governmental" in letter.citation and "Budapest art 29" in letter.citation


def test_provider_emergency_disclosure_to_a_foreign_authority_has_no_statutory_route_for_content() -> None:
    """18 U.S.C. § 2702(b)(8), (c)(4) speak of governmental entities; (c)(6) covers non-content to others."""
    assert "contents have no statutory emergency route" in entry("provider-emergency").citation


@pytest.mark.parametrize("code", ["budapest-29", "uncc-42"])
def test_treaty_preservation_lasts_at_least_60_days_with_no_cap_on_renewals(code: str) -> None:
    """Budapest art 29(7); the UN Convention's preservation article (number unverified)."""
    assert (entry(code).preservation_days, entry(code).max_extensions) == (60, None)


def test_unverified_sources_are_flagged() -> None:
    unverified = {e.code for e in CATALOGUE if not e.source_verified}
    assert unverified == {"uncc-40", "uncc-42", "uncc-43", "uncc-44", "2ap-7", "2ap-8"}


@pytest.mark.parametrize("instrument", CATALOGUE, ids=lambda e: e.code)
def test_only_preservation_instruments_have_a_preservation_period(instrument: InstrumentCreate) -> None:
    preserves = RequestType.PRESERVATION in instrument.request_types
    assert (instrument.preservation_days is not None) == preserves
    if instrument.extension_days is not None:
        assert instrument.preservation_days is not None


@pytest.mark.parametrize("instrument", CATALOGUE, ids=lambda e: e.code)
def test_preservation_never_requires_dual_criminality(instrument: InstrumentCreate) -> None:
    # Budapest art 29(3).
    if RequestType.PRESERVATION in instrument.request_types:
        assert not instrument.requires_dual_criminality


@pytest.mark.parametrize("code", ["mlat", "uncc-40", "uncc-44", "budapest-31", "2ap-10"])
def test_mutual_legal_assistance_asks_for_a_dual_criminality_attestation(code: str) -> None:
    assert entry(code).requires_dual_criminality


# --- Types, directions and targets -----------------------------------------------------------


@pytest.mark.parametrize("instrument", CATALOGUE, ids=lambda e: e.code)
def test_direct_to_provider_instruments_are_outgoing_only(instrument: InstrumentCreate) -> None:
    if CounterpartyKind.PROVIDER in instrument.target_kinds:
        assert instrument.directions == [Direction.OUTGOING]
        assert instrument.target_kinds == [CounterpartyKind.PROVIDER]


@pytest.mark.parametrize(
    ("code", "target"),
    [
        ("2ap-6", CounterpartyKind.PROVIDER),
        ("2ap-7", CounterpartyKind.PROVIDER),
        ("eu-epoc", CounterpartyKind.PROVIDER),
        ("eu-epoc-pr", CounterpartyKind.PROVIDER),
        ("us-2703f", CounterpartyKind.PROVIDER),
        ("provider-emergency", CounterpartyKind.PROVIDER),
        ("2ap-8", CounterpartyKind.STATE),
        ("2ap-9", CounterpartyKind.STATE),
        ("uncc-42", CounterpartyKind.STATE),
        ("budapest-29", CounterpartyKind.STATE),
        ("mlat", CounterpartyKind.STATE),
    ],
)
def test_instrument_targets(code: str, target: CounterpartyKind) -> None:
    assert entry(code).target_kinds == [target]


@pytest.mark.parametrize(
    ("code", "request_type"),
    [
        ("uncc-40", RequestType.MLA),
        ("uncc-42", RequestType.PRESERVATION),
        ("uncc-43", RequestType.TRAFFIC_DISCLOSURE),
        ("uncc-44", RequestType.MLA),
        ("budapest-29", RequestType.PRESERVATION),
        ("budapest-31", RequestType.MLA),
        ("2ap-6", RequestType.DOMAIN_REGISTRATION),
        ("2ap-7", RequestType.SUBSCRIBER_INFO),
        ("2ap-10", RequestType.MLA),
        ("eu-epoc", RequestType.PRODUCTION),
        ("eu-epoc-pr", RequestType.PRESERVATION),
        ("mlat", RequestType.MLA),
        ("us-2703f", RequestType.PRESERVATION),
        ("provider-emergency", RequestType.EMERGENCY_DISCLOSURE),
    ],
)
def test_instrument_allows_exactly_its_request_type(code: str, request_type: RequestType) -> None:
    assert entry(code).request_types == [request_type]


# --- The checks engine reads the catalogue ---------------------------------------------------


def test_content_epoc_to_a_provider_passes_the_instrument_checks() -> None:
    snap = snapshot(
        entry("eu-epoc"),
        type=RequestType.PRODUCTION,
        data_categories=frozenset({DataCategory.SUBSCRIBER, DataCategory.CONTENT}),
        counterparty=CounterpartyView(CounterpartyKind.PROVIDER, "IE", name="Example Mail Ltd"),
    )

    assert result("instrument_allows_request", snap).outcome == "pass"
    assert result("data_categories_allowed", snap).outcome == "pass"
    assert result("epoc_offence_threshold", snap).outcome == "pass"
    assert result("dual_criminality", snap).outcome == "pass"


def test_epoc_to_a_state_fails_instrument_allows_request() -> None:
    snap = snapshot(entry("eu-epoc"), counterparty=CounterpartyView(CounterpartyKind.STATE, "IE"))

    assert result("instrument_allows_request", snap).outcome == "fail"


def test_content_under_2ap_7_fails_data_categories_allowed() -> None:
    sought = frozenset({DataCategory.SUBSCRIBER, DataCategory.CONTENT})
    snap = snapshot(entry("2ap-7"), data_categories=sought)

    assert result("data_categories_allowed", snap).outcome == "fail"


def test_mlat_needs_a_dual_criminality_attestation() -> None:
    snap = snapshot(entry("mlat"), counterparty=CounterpartyView(CounterpartyKind.STATE, "BR"))

    assert result("dual_criminality", snap).outcome == "needs_attestation"


@pytest.mark.parametrize("instrument", CATALOGUE, ids=lambda e: e.code)
def test_every_allowed_combination_passes_the_instrument_checks(instrument: InstrumentCreate) -> None:
    for request_type in instrument.request_types:
        for direction in instrument.directions:
            for target in instrument.target_kinds:
                snap = snapshot(
                    instrument,
                    type=request_type,
                    direction=direction,
                    counterparty=CounterpartyView(target, "IE"),
                )
                assert result("instrument_allows_request", snap).outcome == "pass"
                assert result("data_categories_allowed", snap).outcome == "pass"
