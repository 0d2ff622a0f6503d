"""The legality and proportionality checks (SPEC §7), run on snapshots without a database."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from mla.checks import rules
from mla.checks.rules import (
    AttestationView,
    CheckResult,
    CheckSettings,
    CounterpartyView,
    IdentifierView,
    InstrumentView,
    OffenceView,
    PartyView,
    RequestSnapshot,
    TreatyView,
    attestable_codes,
    blocking_failures,
    check,
    evaluate,
    failed,
    passed,
    unregister,
)
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

START = datetime(2026, 1, 1, tzinfo=UTC)

ALL_CODES = [
    "instrument_allows_request",
    "data_categories_allowed",
    "statements_present",
    "emergency_justified",
    "period_bounded",
    "epoc_offence_threshold",
    "issuer_competence",
    "scope_narrow",
    "instrument_in_force",
    "dual_criminality",
    "human_rights_risk",
    "privileged_persons",
]
ATTESTED = {"instrument_in_force", "dual_criminality", "human_rights_risk", "privileged_persons"}
TODAY = date(2026, 11, 2)
EU_APPLIES_FROM = date(2026, 8, 18)

FACTS = "The suspect sent ransom demands from the account between January and March 2026."
LINK = "The account's subscriber and messages identify who sent the ransom demands."
NECESSITY = "No other source identifies the sender; the provider holds the only copy of the messages."
PROPORTIONALITY = "One account over sixty days, limited to the period of the extortion campaign."


def make_instrument(**overrides: object) -> InstrumentView:
    values: dict[str, object] = {
        "code": "eu-epoc",
        "citation": "Reg. (EU) 2023/1543",
        "request_types": frozenset({RequestType.PRODUCTION}),
        "directions": frozenset({Direction.OUTGOING, Direction.INCOMING}),
        "target_kinds": frozenset({CounterpartyKind.PROVIDER}),
        "data_categories": frozenset(DataCategory),
        "requires_dual_criminality": False,
    }
    values.update(overrides)
    return InstrumentView(**values)  # type: ignore[arg-type]


def bound(country: str, role: str, in_force_on: date | None = EU_APPLIES_FROM, verified: bool = True) -> PartyView:
    return PartyView(
        country, role, in_force_on=in_force_on, source="the treaty office's chart", source_verified=verified
    )


def eu_regulation(*parties: PartyView) -> TreatyView:
    return TreatyView("eu-2023-1543", "Regulation (EU) 2023/1543", "eu_regulation", parties)


def attest(outcome: str = "pass", by: str = "ca.officer@example.org", reason: str = "checked") -> AttestationView:
    return AttestationView(outcome=outcome, reason=reason, by=by, at=START)  # type: ignore[arg-type]


def make_snapshot(**overrides: object) -> RequestSnapshot:
    """A content EPOC to a provider for a 5-year offence, ordered by a judge, every attestation passed."""
    values: dict[str, object] = {
        "type": RequestType.PRODUCTION,
        "direction": Direction.OUTGOING,
        "data_categories": frozenset({DataCategory.SUBSCRIBER, DataCategory.CONTENT}),
        "identifiers": (
            IdentifierView(IdentifierKind.EMAIL, "suspect@example.com", START, START + timedelta(days=30)),
        ),
        "period_start": START,
        "period_end": START + timedelta(days=60),
        "urgency": Urgency.ROUTINE,
        "emergency_justification": None,
        "facts": FACTS,
        "link_to_offence": LINK,
        "necessity": NECESSITY,
        "proportionality": PROPORTIONALITY,
        "offences": (OffenceView("extortion", 5),),
        "instrument": make_instrument(),
        "counterparty": CounterpartyView(CounterpartyKind.PROVIDER, "IE", name="Example Mail Ltd"),
        "attestations": {"privileged_persons": attest()},
        "issuing_judge_or_court": "Amtsgericht Tiergarten, investigating judge",
        "order_reference": "352 Gs 17/26",
        "treaty": eu_regulation(bound("DE", "requesting state")),
        "as_of": TODAY,
    }
    values.update(overrides)
    return RequestSnapshot(**values)  # type: ignore[arg-type]


def result(code: str, snapshot: RequestSnapshot, settings: CheckSettings | None = None) -> CheckResult:
    matches = [r for r in evaluate(snapshot, settings) if r.code == code]
    assert len(matches) == 1
    return matches[0]


def without_attestations(snapshot: RequestSnapshot) -> RequestSnapshot:
    return replace(snapshot, attestations={})


# --- The whole evaluation -------------------------------------------------------------------


def test_valid_snapshot_passes_every_check_and_nothing_blocks() -> None:
    results = evaluate(make_snapshot())

    assert [r.code for r in results] == ALL_CODES
    assert {r.code: r.outcome for r in results} == dict.fromkeys(ALL_CODES, "pass")
    assert blocking_failures(results) == []


def test_only_scope_narrow_is_a_warning_and_only_attested_checks_are_attestable() -> None:
    results = evaluate(make_snapshot())

    assert {r.code for r in results if r.severity == "warning"} == {"scope_narrow"}
    assert {r.code for r in results if r.attestable} == ATTESTED
    assert attestable_codes() == ATTESTED


def test_non_applicable_checks_are_still_returned_as_passes_saying_not_applicable() -> None:
    snapshot = make_snapshot(instrument=make_instrument(code="mlat", request_types=frozenset({RequestType.PRODUCTION})))

    for code in ("emergency_justified", "epoc_offence_threshold", "dual_criminality", "human_rights_risk"):
        outcome = result(code, snapshot)
        assert outcome.outcome == "pass"
        assert outcome.explanation.startswith("not applicable: ")


def test_check_results_serialise_to_json_for_the_audit_trail() -> None:
    record = result("privileged_persons", make_snapshot()).as_record()

    assert json.loads(json.dumps(record)) == {
        "code": "privileged_persons",
        "severity": "blocking",
        "outcome": "pass",
        "explanation": record["explanation"],
        "attestable": True,
        "attested_by": "ca.officer@example.org",
        "attested_reason": "checked",
        "attested_at": "2026-01-01T00:00:00+00:00",
    }


# --- instrument_allows_request --------------------------------------------------------------


def test_instrument_allows_its_request_type_direction_and_target() -> None:
    outcome = result("instrument_allows_request", make_snapshot())

    assert outcome.outcome == "pass"
    assert "eu-epoc" in outcome.explanation


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"type": RequestType.MLA}, "request type mla"),
        ({"direction": Direction.INCOMING}, "direction incoming"),
        ({"counterparty": CounterpartyView(CounterpartyKind.STATE, "FR")}, "a state as target"),
    ],
)
def test_instrument_refuses_a_type_direction_or_target_it_does_not_allow(override: dict, named: str) -> None:
    instrument = make_instrument(directions=frozenset({Direction.OUTGOING}))

    outcome = result("instrument_allows_request", make_snapshot(instrument=instrument, **override))

    assert outcome.outcome == "fail"
    assert outcome.severity == "blocking"
    assert named in outcome.explanation


# --- data_categories_allowed ----------------------------------------------------------------


def test_subscriber_data_under_2ap_article_7_is_allowed() -> None:
    instrument = make_instrument(
        code="2ap-7",
        request_types=frozenset({RequestType.SUBSCRIBER_INFO}),
        data_categories=frozenset({DataCategory.SUBSCRIBER}),
    )
    snapshot = make_snapshot(
        type=RequestType.SUBSCRIBER_INFO, instrument=instrument, data_categories=frozenset({DataCategory.SUBSCRIBER})
    )

    assert result("data_categories_allowed", snapshot).outcome == "pass"


def test_content_under_2ap_article_7_is_refused_and_named() -> None:
    instrument = make_instrument(code="2ap-7", data_categories=frozenset({DataCategory.SUBSCRIBER}))

    outcome = result("data_categories_allowed", make_snapshot(instrument=instrument))

    assert outcome.outcome == "fail"
    assert "does not cover content data" in outcome.explanation


def test_a_request_seeking_no_data_category_fails() -> None:
    outcome = result("data_categories_allowed", make_snapshot(data_categories=frozenset()))

    assert outcome.outcome == "fail"


# --- statements_present ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [None, "", "   ", "n/a", "TBD", "N/A.", "too short to say anything", "a" * 80, "tbd " * 20, "x" * 10 + " " * 40],
)
def test_a_missing_or_hollow_necessity_statement_fails_and_is_named(statement: str | None) -> None:
    outcome = result("statements_present", make_snapshot(necessity=statement))

    assert outcome.outcome == "fail"
    assert "necessity" in outcome.explanation
    for other in ("facts", "link_to_offence", "proportionality"):
        assert other not in outcome.explanation
    assert "Budapest Convention art 15" in outcome.explanation


def test_every_missing_statement_is_named() -> None:
    outcome = result("statements_present", make_snapshot(facts=None, link_to_offence="n/a", proportionality="tbd"))

    assert outcome.outcome == "fail"
    for name in ("facts", "link_to_offence", "proportionality"):
        assert name in outcome.explanation
    assert "necessity" not in outcome.explanation


def test_minimum_statement_length_is_configurable() -> None:
    snapshot = make_snapshot(proportionality="One account over sixty days only.")  # 33 characters

    assert result("statements_present", snapshot).outcome == "fail"
    assert result("statements_present", snapshot, CheckSettings(min_statement_chars=30)).outcome == "pass"


# --- emergency_justified --------------------------------------------------------------------


def test_routine_request_needs_no_emergency_justification() -> None:
    outcome = result("emergency_justified", make_snapshot(urgency=Urgency.ROUTINE))

    assert outcome.outcome == "pass"
    assert outcome.explanation.startswith("not applicable")


LIFE = frozenset({EmergencyGround.LIFE})


@pytest.mark.parametrize("justification", [None, "", "urgent", "n/a", "!!!!!!!!!!!!!!!!!!!!!!!!!"])
def test_emergency_without_a_real_justification_fails(justification: str | None) -> None:
    snapshot = make_snapshot(urgency=Urgency.EMERGENCY, emergency_grounds=LIFE, emergency_justification=justification)

    assert result("emergency_justified", snapshot).outcome == "fail"


def test_emergency_with_a_stated_threat_to_life_passes() -> None:
    snapshot = make_snapshot(
        urgency=Urgency.EMERGENCY,
        emergency_grounds=LIFE,
        emergency_justification="Kidnapped child held by the account holder since today.",
    )

    outcome = result("emergency_justified", snapshot)
    assert outcome.outcome == "pass"
    assert "life" in outcome.explanation and "art 3(18)" in outcome.explanation


def test_an_emergency_without_a_named_ground_fails() -> None:
    snapshot = make_snapshot(
        urgency=Urgency.EMERGENCY, emergency_justification="Kidnapped child held by the account holder since today."
    )

    outcome = result("emergency_justified", snapshot)
    assert outcome.outcome == "fail"
    assert "no emergency ground" in outcome.explanation


def test_a_risk_of_losing_evidence_makes_a_request_urgent_not_an_emergency() -> None:
    """Worked example: the provider deletes logs after 7 days; the suspect may wipe the account today."""
    snapshot = make_snapshot(
        urgency=Urgency.EMERGENCY,
        emergency_grounds=frozenset({EmergencyGround.LOSS_OF_EVIDENCE}),
        emergency_justification="The suspect announced he will wipe the account tonight; logs rotate in 7 days.",
    )

    outcome = result("emergency_justified", snapshot)
    assert outcome.outcome == "fail"
    assert "urgent, not an emergency" in outcome.explanation
    assert outcome in blocking_failures(evaluate(snapshot))


def test_a_risk_to_a_persons_safety_is_an_emergency_even_when_evidence_is_also_at_risk() -> None:
    snapshot = make_snapshot(
        urgency=Urgency.EMERGENCY,
        emergency_grounds=frozenset({EmergencyGround.SAFETY, EmergencyGround.LOSS_OF_EVIDENCE}),
        emergency_justification="Threats to shoot a named teacher tomorrow were posted from this account.",
    )

    assert result("emergency_justified", snapshot).outcome == "pass"


def test_critical_infrastructure_is_an_emergency_under_the_eu_regulation_only() -> None:
    grid = {
        "urgency": Urgency.EMERGENCY,
        "emergency_grounds": frozenset({EmergencyGround.CRITICAL_INFRASTRUCTURE}),
        "emergency_justification": "Ransomware is spreading through the regional power grid's control systems.",
    }

    under_regulation = result("emergency_justified", make_snapshot(**grid))
    under_2ap = result("emergency_justified", make_snapshot(**grid, instrument=make_instrument(code="2ap-9")))

    assert under_regulation.outcome == "pass"
    assert under_2ap.outcome == "fail"
    assert "only under Reg. 2023/1543" in under_2ap.explanation


def test_emergency_disclosure_request_needs_a_justification_whatever_the_urgency() -> None:
    snapshot = make_snapshot(type=RequestType.EMERGENCY_DISCLOSURE, urgency=Urgency.URGENT)

    assert result("emergency_justified", snapshot).outcome == "fail"


# --- period_bounded -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"period_start": None}, "period_start"),
        ({"period_end": None}, "period_end"),
        ({"period_end": START}, "at or after its end"),
        ({"period_end": START - timedelta(days=1)}, "at or after its end"),
    ],
)
def test_a_period_without_both_ends_in_order_fails(override: dict, named: str) -> None:
    outcome = result("period_bounded", make_snapshot(**override))

    assert outcome.outcome == "fail"
    assert named in outcome.explanation


def test_an_identifier_window_that_ends_before_it_starts_fails() -> None:
    ident = IdentifierView(IdentifierKind.IP, "192.0.2.1", START + timedelta(days=2), START + timedelta(days=1))

    outcome = result("period_bounded", make_snapshot(identifiers=(ident,)))

    assert outcome.outcome == "fail"
    assert "192.0.2.1" in outcome.explanation


def test_content_over_a_period_longer_than_the_maximum_fails() -> None:
    at_limit = make_snapshot(period_end=START + timedelta(days=365))
    over_limit = make_snapshot(period_end=START + timedelta(days=366))

    assert result("period_bounded", at_limit).outcome == "pass"
    outcome = result("period_bounded", over_limit)
    assert outcome.outcome == "fail"
    assert "366 days" in outcome.explanation


def test_the_content_maximum_does_not_apply_to_other_data() -> None:
    snapshot = make_snapshot(
        data_categories=frozenset({DataCategory.SUBSCRIBER}), period_end=START + timedelta(days=800)
    )

    assert result("period_bounded", snapshot).outcome == "pass"


def test_the_content_maximum_is_configurable() -> None:
    snapshot = make_snapshot(period_end=START + timedelta(days=60))

    assert result("period_bounded", snapshot, CheckSettings(max_content_days=30)).outcome == "fail"


# --- epoc_offence_threshold (SPEC scenario) -------------------------------------------------


def test_content_epoc_for_an_offence_punishable_by_two_years_fails() -> None:
    outcome = result("epoc_offence_threshold", make_snapshot(offences=(OffenceView("extortion", 2),)))

    assert outcome.outcome == "fail"
    assert outcome.severity == "blocking"
    assert "2023/1543 art 5(4)" in outcome.explanation
    assert "2 years" in outcome.explanation


@pytest.mark.parametrize("years", [3, 5])
def test_content_epoc_for_an_offence_punishable_by_three_years_or_more_passes(years: float) -> None:
    outcome = result("epoc_offence_threshold", make_snapshot(offences=(OffenceView("extortion", years),)))

    assert outcome.outcome == "pass"
    assert not outcome.explanation.startswith("not applicable")


def test_traffic_epoc_for_a_two_year_offence_fails() -> None:
    snapshot = make_snapshot(data_categories=frozenset({DataCategory.TRAFFIC}), offences=(OffenceView("extortion", 2),))

    assert result("epoc_offence_threshold", snapshot).outcome == "fail"


def test_any_offence_above_the_threshold_is_enough() -> None:
    snapshot = make_snapshot(offences=(OffenceView("insult", 1), OffenceView("extortion", 4)))

    assert result("epoc_offence_threshold", snapshot).outcome == "pass"


def test_an_epoc_without_offences_for_content_fails() -> None:
    assert result("epoc_offence_threshold", make_snapshot(offences=())).outcome == "fail"


@pytest.mark.parametrize(
    ("description", "family"),
    [
        ("Distribution of child sexual abuse material", "child sexual abuse"),
        ("Ransomware attack on a hospital", "attacks against information systems"),
        ("DDoS against a bank", "attacks against information systems"),
        ("Payment card fraud via a fake shop", "non-cash payment fraud"),
    ],
)
def test_listed_offence_families_pass_below_three_years(description: str, family: str) -> None:
    outcome = result("epoc_offence_threshold", make_snapshot(offences=(OffenceView(description, 2),)))

    assert outcome.outcome == "pass"
    assert family in outcome.explanation
    assert outcome.explanation.endswith("art 5(4)(b)") and "by means of an information system" in outcome.explanation


def test_terrorism_is_its_own_point_not_an_offence_by_means_of_an_information_system() -> None:
    """Worked example: financing a terrorist group, 2 years maximum, no computer involved."""
    outcome = result("epoc_offence_threshold", make_snapshot(offences=(OffenceView("Terrorist financing", 2),)))

    assert outcome.outcome == "pass"
    assert outcome.explanation.endswith("art 5(4)(c)")
    assert "information system" not in outcome.explanation


def test_the_refusal_names_the_three_points_of_article_5_4() -> None:
    outcome = result("epoc_offence_threshold", make_snapshot(offences=(OffenceView("Insult", 1),)))

    assert outcome.outcome == "fail"
    assert all(point in outcome.explanation for point in ("art 5(4)(a)", "art 5(4)(b)", "art 5(4)(c)"))


def test_subscriber_and_ip_identification_epoc_is_allowed_for_any_offence() -> None:
    snapshot = make_snapshot(
        data_categories=frozenset({DataCategory.SUBSCRIBER, DataCategory.IP_IDENTIFICATION}),
        offences=(OffenceView("insult", 1),),
    )

    outcome = result("epoc_offence_threshold", snapshot)
    assert outcome.outcome == "pass"
    assert outcome.explanation.startswith("not applicable")


def test_the_threshold_applies_only_under_eu_epoc() -> None:
    snapshot = make_snapshot(instrument=make_instrument(code="mlat"), offences=(OffenceView("extortion", 2),))

    outcome = result("epoc_offence_threshold", snapshot)
    assert outcome.outcome == "pass"
    assert outcome.explanation.startswith("not applicable")


# --- scope_narrow ---------------------------------------------------------------------------


def identifiers(count: int) -> tuple[IdentifierView, ...]:
    return tuple(IdentifierView(IdentifierKind.ACCOUNT, f"user{i}") for i in range(count))


def test_up_to_the_configured_number_of_identifiers_is_narrow() -> None:
    assert result("scope_narrow", make_snapshot(identifiers=identifiers(10))).outcome == "pass"


def test_many_identifiers_warn_but_do_not_block() -> None:
    results = evaluate(make_snapshot(identifiers=identifiers(11)))
    outcome = next(r for r in results if r.code == "scope_narrow")

    assert outcome.outcome == "fail"
    assert outcome.severity == "warning"
    assert "11 identifiers" in outcome.explanation
    assert blocking_failures(results) == []


def test_a_long_overall_period_warns() -> None:
    snapshot = make_snapshot(period_end=START + timedelta(days=181))

    outcome = result("scope_narrow", snapshot)
    assert outcome.outcome == "fail"
    assert "181 days" in outcome.explanation
    assert result("scope_narrow", snapshot, CheckSettings(long_window_days=200)).outcome == "pass"


def test_a_long_identifier_window_warns() -> None:
    ident = IdentifierView(IdentifierKind.PHONE, "+447700900123", START, START + timedelta(days=200))

    outcome = result("scope_narrow", make_snapshot(identifiers=(ident,)))
    assert outcome.outcome == "fail"
    assert "+447700900123" in outcome.explanation


# --- issuer_competence ----------------------------------------------------------------------

NO_JUDGE = {"issuing_judge_or_court": None, "order_reference": None}


def test_a_content_epoc_ordered_by_a_judge_passes_and_names_the_order() -> None:
    outcome = result("issuer_competence", make_snapshot())

    assert outcome.outcome == "pass"
    assert "Amtsgericht Tiergarten" in outcome.explanation and "352 Gs 17/26" in outcome.explanation
    assert "art 4(2)" in outcome.explanation


@pytest.mark.parametrize("category", [DataCategory.CONTENT, DataCategory.TRAFFIC])
def test_a_traffic_or_content_epoc_of_a_prosecutor_without_a_judge_fails(category: DataCategory) -> None:
    snapshot = make_snapshot(data_categories=frozenset({category}), **NO_JUDGE)

    outcome = result("issuer_competence", snapshot)
    assert outcome.outcome == "fail"
    assert "judge" in outcome.explanation and "art 4(2)" in outcome.explanation
    assert outcome in blocking_failures(evaluate(snapshot))


def test_a_court_issues_a_content_epoc_itself() -> None:
    snapshot = make_snapshot(owner_kind=OrganisationKind.COURT, **NO_JUDGE)

    assert result("issuer_competence", snapshot).outcome == "pass"


@pytest.mark.parametrize(
    "categories", [frozenset({DataCategory.SUBSCRIBER}), frozenset({DataCategory.IP_IDENTIFICATION})]
)
def test_a_prosecutor_issues_an_epoc_for_subscriber_or_ip_identification_data(categories: frozenset) -> None:
    outcome = result("issuer_competence", make_snapshot(data_categories=categories, **NO_JUDGE))

    assert outcome.outcome == "pass"
    assert "art 4(1)" in outcome.explanation


def test_a_prosecutor_issues_a_european_preservation_order_for_traffic_and_content() -> None:
    """The old check demanded a judge for every preservation of traffic data: art 4(3) says otherwise."""
    snapshot = make_snapshot(
        type=RequestType.PRESERVATION,
        instrument=make_instrument(code="eu-epoc-pr", request_types=frozenset({RequestType.PRESERVATION})),
        data_categories=frozenset({DataCategory.TRAFFIC, DataCategory.CONTENT}),
        **NO_JUDGE,
    )

    outcome = result("issuer_competence", snapshot)
    assert outcome.outcome == "pass"
    assert "art 4(3)" in outcome.explanation


def test_law_enforcement_needs_its_preservation_order_validated() -> None:
    preservation = {
        "type": RequestType.PRESERVATION,
        "instrument": make_instrument(code="eu-epoc-pr", request_types=frozenset({RequestType.PRESERVATION})),
        "owner_kind": OrganisationKind.LAW_ENFORCEMENT,
    }

    alone = result("issuer_competence", make_snapshot(**preservation, **NO_JUDGE))
    validated = result(
        "issuer_competence",
        make_snapshot(**preservation, issuing_judge_or_court="Public prosecutor Berlin", order_reference="V 1/26"),
    )

    assert alone.outcome == "fail" and "art 4(3)(b)" in alone.explanation
    assert validated.outcome == "pass"


# Reg. 2023/1543 art 4(5): in an emergency, an authority of art 4(1)(b) or 4(3)(b) may issue an EPOC
# for subscriber or identification data, or an EPOC-PR, without prior validation, and seeks it ex
# post within 48 hours.
EMERGENCY_BY_POLICE = {
    "urgency": Urgency.EMERGENCY,
    "emergency_grounds": frozenset({EmergencyGround.LIFE}),
    "owner_kind": OrganisationKind.LAW_ENFORCEMENT,
    "issued_without_prior_validation": True,
    **NO_JUDGE,
}


@pytest.mark.parametrize(
    ("code", "request_type", "categories"),
    [
        ("eu-epoc", RequestType.PRODUCTION, {DataCategory.SUBSCRIBER}),
        ("eu-epoc", RequestType.PRODUCTION, {DataCategory.IP_IDENTIFICATION}),
        ("eu-epoc-pr", RequestType.PRESERVATION, {DataCategory.TRAFFIC, DataCategory.CONTENT}),
    ],
)
def test_an_emergency_order_of_the_police_pending_validation_may_be_approved(
    code: str, request_type: RequestType, categories: set[DataCategory]
) -> None:
    snapshot = make_snapshot(
        **EMERGENCY_BY_POLICE,
        type=request_type,
        instrument=make_instrument(code=code, request_types=frozenset({request_type})),
        data_categories=frozenset(categories),
    )

    outcome = result("issuer_competence", snapshot)

    assert outcome.outcome == "pass"
    assert "pending validation" in outcome.explanation and "48 hours" in outcome.explanation
    assert "art 4(5)" in outcome.explanation
    assert outcome not in blocking_failures(evaluate(snapshot))


def test_once_validated_ex_post_the_check_names_who_validated_it() -> None:
    snapshot = make_snapshot(
        **EMERGENCY_BY_POLICE,
        data_categories=frozenset({DataCategory.SUBSCRIBER}),
        ex_post_validation="Public prosecutor Berlin on 2026-11-03T13:00:00+00:00 (reference V 2/26)",
    )

    outcome = result("issuer_competence", snapshot)

    assert outcome.outcome == "pass"
    assert "validated ex post by Public prosecutor Berlin" in outcome.explanation and "V 2/26" in outcome.explanation


@pytest.mark.parametrize("category", [DataCategory.TRAFFIC, DataCategory.CONTENT])
def test_traffic_or_content_is_never_ordered_without_prior_validation(category: DataCategory) -> None:
    """Art 4(5) covers subscriber and identification data and preservation only: traffic or content
    production needs the judge's order first (art 4(2)), emergency or not."""
    snapshot = make_snapshot(**EMERGENCY_BY_POLICE, data_categories=frozenset({DataCategory.SUBSCRIBER, category}))

    outcome = result("issuer_competence", snapshot)

    assert outcome.outcome == "fail"
    assert f"{category} data need the order of a judge or court first" in outcome.explanation


def test_a_prosecutor_has_no_validation_to_wait_for() -> None:
    """Art 4(1)(a), 4(3)(a): a prosecutor issues identification EPOCs and EPOC-PRs alone, so art 4(5)
    (an exception for authorities that need validation) does not apply."""
    snapshot = make_snapshot(
        **(EMERGENCY_BY_POLICE | {"owner_kind": OrganisationKind.PROSECUTION_SERVICE}),
        data_categories=frozenset({DataCategory.SUBSCRIBER}),
    )

    outcome = result("issuer_competence", snapshot)

    assert outcome.outcome == "fail" and "no validation to wait for" in outcome.explanation


@pytest.mark.parametrize("code", ["budapest-29", "us-2703f"])
def test_preservation_under_budapest_29_or_2703f_needs_no_court(code: str) -> None:
    snapshot = make_snapshot(
        type=RequestType.PRESERVATION,
        instrument=make_instrument(code=code, request_types=frozenset({RequestType.PRESERVATION})),
        data_categories=frozenset({DataCategory.TRAFFIC, DataCategory.CONTENT}),
        **NO_JUDGE,
    )

    outcome = result("issuer_competence", snapshot)
    assert outcome.outcome == "pass"
    assert "no court order" in outcome.explanation


# --- instrument_in_force --------------------------------------------------------------------


def budapest(*parties: PartyView) -> TreatyView:
    return TreatyView("ets-185", "Convention on Cybercrime", "multilateral", parties)


def test_an_eu_regulation_in_force_for_the_issuing_state_passes() -> None:
    outcome = result("instrument_in_force", make_snapshot())

    assert outcome.outcome == "pass"
    assert "DE (requesting state)" in outcome.explanation


def test_the_eu_regulation_is_not_in_force_before_18_august_2026() -> None:
    outcome = result("instrument_in_force", make_snapshot(as_of=date(2026, 8, 17)))

    assert outcome.outcome == "fail"
    assert "in force 2026-08-18" in outcome.explanation


def test_a_member_state_not_bound_by_the_regulation_cannot_issue_under_it() -> None:
    denmark = PartyView("DK", "requesting state", notes="Not bound by the Regulation (Protocol No 22).")

    outcome = result("instrument_in_force", make_snapshot(treaty=eu_regulation(denmark)))

    assert outcome.outcome == "fail"
    assert (
        "DK, the requesting state (not in force, Not bound by the Regulation (Protocol No 22))" in outcome.explanation
    )


def test_a_convention_must_bind_both_states() -> None:
    """Worked example: Germany (in force 1 July 2009) asks Ireland, which signed in 2002 and has no ratification."""
    ireland = PartyView("IE", "requested state", signed_on=date(2002, 2, 28), source="chart", source_verified=True)
    treaty = budapest(bound("DE", "requesting state", date(2009, 7, 1)), ireland)

    outcome = result("instrument_in_force", make_snapshot(treaty=treaty))

    assert outcome.outcome == "fail"
    assert "IE, the requested state (signed 2002-02-28, not in force)" in outcome.explanation
    assert "DE, the requesting state" not in outcome.explanation


def test_a_state_without_a_record_counts_as_not_bound() -> None:
    treaty = budapest(
        bound("DE", "requesting state", date(2009, 7, 1)), PartyView("BR", "requested state", recorded=False)
    )

    outcome = result("instrument_in_force", make_snapshot(treaty=treaty))

    assert outcome.outcome == "fail"
    assert "BR, the requested state (no record)" in outcome.explanation


def test_unverified_reference_data_needs_an_officers_confirmation() -> None:
    treaty = budapest(
        bound("DE", "requesting state", date(2009, 7, 1), verified=False),
        bound("US", "requested state", date(2007, 1, 1), verified=False),
    )
    snapshot = make_snapshot(treaty=treaty)

    assert result("instrument_in_force", snapshot).outcome == "needs_attestation"
    confirmed = replace(snapshot, attestations={**snapshot.attestations, "instrument_in_force": attest()})
    assert result("instrument_in_force", confirmed).outcome == "pass"


def test_a_generic_bilateral_treaty_must_be_named_then_confirmed() -> None:
    states = (PartyView("DE", "requesting state", recorded=False), PartyView("US", "requested state", recorded=False))
    treaty = TreatyView("bilateral", "Bilateral MLA treaty", "bilateral", states)
    unnamed = make_snapshot(treaty=treaty, instrument=make_instrument(code="mlat"))
    named = replace(unnamed, treaty_reference="Treaty on Mutual Legal Assistance DE-US of 14 October 2003, art 1")

    assert result("instrument_in_force", unnamed).outcome == "fail"
    assert "treaty_reference" in result("instrument_in_force", unnamed).explanation
    outcome = result("instrument_in_force", named)
    assert outcome.outcome == "needs_attestation"
    assert "DE-US of 14 October 2003" in outcome.explanation and "DE (requesting state) and US" in outcome.explanation


def test_an_instrument_resting_on_no_treaty_is_not_concerned() -> None:
    outcome = result("instrument_in_force", make_snapshot(treaty=None))

    assert outcome.outcome == "pass"
    assert outcome.explanation.startswith("not applicable")


# --- dual_criminality, human_rights_risk, privileged_persons --------------------------------


def test_dual_criminality_needs_attestation_where_the_instrument_requires_it() -> None:
    snapshot = make_snapshot(instrument=make_instrument(requires_dual_criminality=True))

    assert result("dual_criminality", snapshot).outcome == "needs_attestation"
    attested = replace(snapshot, attestations={"dual_criminality": attest()})
    assert result("dual_criminality", attested).outcome == "pass"


def test_dual_criminality_is_not_applicable_where_the_instrument_does_not_require_it() -> None:
    outcome = result("dual_criminality", without_attestations(make_snapshot()))

    assert outcome.outcome == "pass"
    assert outcome.explanation.startswith("not applicable")


def test_requests_to_a_state_need_a_human_rights_attestation_naming_the_death_penalty() -> None:
    state = CounterpartyView(CounterpartyKind.STATE, "XX", name="Example State", death_penalty=True)

    outcome = result("human_rights_risk", make_snapshot(counterparty=state))

    assert outcome.outcome == "needs_attestation"
    assert "death penalty" in outcome.explanation
    attested = make_snapshot(
        counterparty=state, attestations={"human_rights_risk": attest("fail", reason="no assurances")}
    )
    assert result("human_rights_risk", attested).outcome == "fail"


def test_incoming_requests_from_a_state_need_a_human_rights_attestation_too() -> None:
    state = CounterpartyView(CounterpartyKind.STATE, "FR")

    snapshot = make_snapshot(direction=Direction.INCOMING, counterparty=state)

    assert result("human_rights_risk", snapshot).outcome == "needs_attestation"


def test_requests_to_a_provider_need_no_human_rights_attestation() -> None:
    outcome = result("human_rights_risk", without_attestations(make_snapshot()))

    assert outcome.outcome == "pass"
    assert outcome.explanation.startswith("not applicable")


@pytest.mark.parametrize("categories", [frozenset({DataCategory.SUBSCRIBER}), frozenset({DataCategory.CONTENT})])
def test_privileged_persons_always_need_an_attestation(categories: frozenset[DataCategory]) -> None:
    snapshot = without_attestations(make_snapshot(data_categories=categories))

    outcome = result("privileged_persons", snapshot)
    assert outcome.outcome == "needs_attestation"
    assert "journalist" in outcome.explanation


# --- blocking_failures ----------------------------------------------------------------------


def test_blocking_failures_lists_exactly_the_failing_blocking_checks_and_open_attestations() -> None:
    snapshot = make_snapshot(
        facts="n/a",  # statements_present fails
        identifiers=identifiers(12),  # scope_narrow warns: not blocking
        instrument=make_instrument(requires_dual_criminality=True),
        issuing_judge_or_court=None,  # issuer_competence fails
        treaty=eu_regulation(bound("DE", "requesting state", verified=False)),  # needs an attestation
        attestations={
            "privileged_persons": attest("pass"),
            "dual_criminality": attest("fail", reason="conduct not an offence there"),
        },
    )

    blocking = blocking_failures(evaluate(snapshot))

    assert {r.code: r.outcome for r in blocking} == {
        "statements_present": "fail",
        "issuer_competence": "fail",
        "instrument_in_force": "needs_attestation",
        "dual_criminality": "fail",
    }


# --- the registry ---------------------------------------------------------------------------


def test_a_newly_registered_check_shows_up_in_evaluate() -> None:
    @check(code="test_language_declared", severity="warning")
    def language_declared(snapshot: RequestSnapshot, settings: CheckSettings) -> rules.Verdict:
        return failed("no language") if snapshot.facts is None else passed("language declared")

    try:
        results = evaluate(make_snapshot(facts=None))
        added = next(r for r in results if r.code == "test_language_declared")
        assert (added.severity, added.outcome, added.explanation) == ("warning", "fail", "no language")
        assert results[-1].code == "test_language_declared"
    finally:
        unregister("test_language_declared")
    assert "test_language_declared" not in {r.code for r in evaluate(make_snapshot())}


def test_a_check_code_cannot_be_registered_twice_or_in_another_case() -> None:
    with pytest.raises(ValueError, match="already registered"):
        check(code="statements_present")(lambda snapshot, settings: passed("duplicate"))
    with pytest.raises(ValueError, match="snake_case"):
        check(code="Statements-Present")
    assert rules.REGISTRY["statements_present"].function is rules.statements_present


def test_a_check_not_declared_attestable_cannot_ask_for_an_attestation() -> None:
    check(code="test_sneaky_attestation")(lambda snapshot, settings: rules.attestation_required("please"))
    try:
        with pytest.raises(ValueError, match="not attestable"):
            evaluate(make_snapshot())
    finally:
        unregister("test_sneaky_attestation")
