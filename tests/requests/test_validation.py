"""Input validation of requests, through the API (SPEC §4, §7, §9, §11).

Bad input is never a 500: it is an RFC 9457 problem (`application/problem+json` with `type`,
`title`, `status`, `detail`), a 422 lists the fields at fault in `errors`, and a refused write
stores nothing — no request row and no audit event.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mla.audit.models import AuditEvent
from mla.requests.models import Request
from tests.factories import Org, World, request_body

REQUESTS = "/api/v1/requests"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
ABSENT = object()  # a key to leave out of the body


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is a problem of `status`; a 422 lists its errors, naming `field` if given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert problem["status"] == status
    assert problem["type"].startswith("https://") and problem["title"] and problem["detail"]
    if status == 422:
        assert problem["errors"], problem
        assert field is None or field in [error["field"] for error in problem["errors"]], problem
    return problem


@dataclass
class Filing:
    """A prosecutor's organisation with a case and a provider to file requests against."""

    world: World
    org: Org
    case: dict[str, Any]
    provider: uuid.UUID

    def body(self, **changes: Any) -> dict[str, Any]:
        body = request_body(self.case["id"], self.provider, self.world.clock.now())
        body.update(changes)
        return {name: value for name, value in body.items() if value is not ABSENT}

    async def post(self, body: dict[str, Any] | list[Any]) -> httpx.Response:
        return await self.world.client.post(REQUESTS, json=body, headers=self.org.headers())

    async def post_raw(self, content: bytes, content_type: str = "application/json") -> httpx.Response:
        headers = {**self.org.headers(), "content-type": content_type}
        return await self.world.client.post(REQUESTS, content=content, headers=headers)

    async def stored(self) -> tuple[int, int]:
        return await stored_by(self.world, self.org)


async def stored_by(world: World, org: Org) -> tuple[int, int]:
    """How many requests and audit events the organisation has in the database."""
    async with world.sessionmaker() as session:
        requests = await session.scalar(
            select(func.count()).select_from(Request).where(Request.organisation_id == org.id)
        )
        events = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.organisation_id == org.id)
        )
    return requests or 0, events or 0


@pytest.fixture
async def filing(world: World) -> Filing:
    org = await world.organisation()
    return Filing(world, org, await world.case(org), await world.counterparty())


# --- POST /requests: each refused body names its field and stores nothing ---------------------

INVALID_REQUESTS = [
    # closed vocabularies
    pytest.param({"type": "bogus"}, "type", id="unknown type"),
    pytest.param({"direction": "sideways"}, "direction", id="unknown direction"),
    pytest.param({"urgency": "whenever"}, "urgency", id="unknown urgency"),
    pytest.param({"data_categories": ["subscriber", "dna"]}, "data_categories[1]", id="unknown data category"),
    pytest.param({"data_categories": []}, "data_categories", id="no data category"),
    pytest.param({"identifiers": [{"kind": "fax", "value": "x"}]}, "identifiers[0].kind", id="unknown identifier kind"),
    pytest.param({"language": "english"}, "language", id="language not an ISO 639 code"),
    # periods: bounded, start before end, with a UTC offset
    pytest.param(
        {"period_start": "2026-09-01T00:00:00Z", "period_end": "2026-08-01T00:00:00Z"},
        "period_end",
        id="period ends before it starts",
    ),
    pytest.param(
        {"period_start": "2026-09-01T00:00:00Z", "period_end": "2026-09-01T02:00:00+02:00"},
        "period_end",
        id="period ends at the instant it starts",
    ),
    pytest.param({"period_start": "2026-08-01T00:00:00"}, "period_start", id="naive period start"),
    pytest.param({"period_end": "2026-09-01T00:00:00"}, "period_end", id="naive period end"),
    pytest.param({"period_start": "2026-08-01"}, "period_start", id="period start without a time"),
    # out of the range the database and the deadline arithmetic can take (found by fuzzing)
    pytest.param({"period_start": "0001-01-01T00:00:00+12:00"}, "period_start", id="period start before year 1 in UTC"),
    pytest.param({"period_end": "9999-12-31T23:59:59-12:00"}, "period_end", id="period end after year 9999 in UTC"),
    pytest.param(
        {
            "identifiers": [
                {"kind": "ip", "value": "192.0.2.1", "from": "2026-09-01T00:00:00Z", "to": "2026-08-01T00:00:00Z"}
            ]
        },
        "identifiers[0].to",
        id="identifier window ends before it starts",
    ),
    pytest.param(
        {"identifiers": [{"kind": "ip", "value": "192.0.2.1", "from": "2026-09-01T00:00:00"}]},
        "identifiers[0].from",
        id="naive identifier window",
    ),
    pytest.param(
        {"identifiers": [{"kind": "ip", "value": "192.0.2.1", "from": "0001-01-01T00:00:00+14:00"}]},
        "identifiers[0].from",
        id="identifier window from before year 1 in UTC",
    ),
    pytest.param(
        {"identifiers": [{"kind": "ip", "value": "192.0.2.1", "to": "9999-12-31T23:59:59-14:00"}]},
        "identifiers[0].to",
        id="identifier window to after year 9999 in UTC",
    ),
    pytest.param(
        {"identifiers": [{"kind": "ip", "value": "192.0.2.1", "from": "1850-01-01T00:00:00Z"}]},
        "identifiers[0].from",
        id="identifier window from before 1900",
    ),
    # length limits
    pytest.param({"facts": "x" * 20_001}, "facts", id="statement of 20,001 characters"),
    pytest.param({"proportionality": "x" * 20_001}, "proportionality", id="proportionality of 20,001 characters"),
    pytest.param({"confidentiality_reason": "x" * 20_001}, "confidentiality_reason", id="reason too long"),
    pytest.param({"emergency_justification": "   "}, "emergency_justification", id="blank justification"),
    pytest.param({"identifiers": [{"kind": "other", "value": "x" * 501}]}, "identifiers[0].value", id="501-char id"),
    pytest.param(
        {"identifiers": [{"kind": "other", "value": f"account-{n}"} for n in range(1001)]},
        "identifiers",
        id="1,001 identifiers",
    ),
    pytest.param({"instrument": "x" * 33}, "instrument", id="instrument code too long"),
    pytest.param({"counterparty_references": ["x" * 101]}, "counterparty_references[0]", id="long reference"),
    pytest.param({"counterparty_references": [f"T-{n}" for n in range(51)]}, "counterparty_references", id="51 refs"),
    pytest.param({"priority": 10}, "priority", id="priority above 9"),
    # NUL cannot be stored in PostgreSQL text: a 422, never a 500 from the driver
    pytest.param({"facts": "before\x00after"}, "facts", id="NUL in a statement"),
    pytest.param({"emergency_justification": "threat\x00"}, "emergency_justification", id="NUL in justification"),
    pytest.param({"counterparty_references": ["T-1\x00"]}, "counterparty_references[0]", id="NUL in a reference"),
    pytest.param({"identifiers": [{"kind": "account", "value": "a\x00b"}]}, "identifiers[0].value", id="NUL in id"),
    pytest.param({"instrument": "eu\x00epoc"}, "instrument", id="NUL in the instrument code"),
    # confidentiality needs its reason
    pytest.param({"confidential": True, "confidentiality_reason": None}, "confidentiality_reason", id="null reason"),
    pytest.param({"confidential": True, "confidentiality_reason": ABSENT}, "confidentiality_reason", id="no reason"),
    pytest.param({"confidential": True, "confidentiality_reason": ""}, "confidentiality_reason", id="empty reason"),
    # shape
    pytest.param({"colour": "red"}, "colour", id="unknown field"),
    pytest.param({"case_id": ABSENT}, "case_id", id="missing case"),
    pytest.param({"case_id": "case-17"}, "case_id", id="case id not a UUID"),
    pytest.param({"confidential": "yes"}, "confidential", id="string for a boolean"),
    pytest.param({"identifiers": [None]}, "identifiers[0]", id="null identifier"),
    pytest.param({"identifiers": [{"kind": "email"}]}, "identifiers[0].value", id="identifier without value"),
    pytest.param(
        {"identifiers": [{"kind": "email", "value": "a@example.com", "when": "now"}]},
        "identifiers[0].when",
        id="unknown identifier field",
    ),
    # references to things that must exist (and be the caller's)
    pytest.param({"case_id": UNKNOWN_ID}, "case_id", id="unknown case"),
    pytest.param({"target_id": UNKNOWN_ID}, "target_id", id="unknown target"),
    pytest.param({"instrument": "no-such-treaty"}, "instrument", id="unknown instrument"),
    # Reg. 2023/1543 art 8(2): the enforcing authority is in another Member State than the issuing one (DE)
    pytest.param({"notified_enforcing_state": "DE"}, "notified_enforcing_state", id="enforcing state is the issuer"),
    pytest.param({"notified_enforcing_state": "de"}, "notified_enforcing_state", id="issuer's state in lower case"),
]


@pytest.mark.parametrize(("changes", "field"), INVALID_REQUESTS)
async def test_invalid_request_is_refused_naming_the_field_and_stores_nothing(
    filing: Filing, changes: dict[str, Any], field: str
) -> None:
    before = await filing.stored()

    response = await filing.post(filing.body(**changes))

    assert_problem(response, 422, field)
    assert await filing.stored() == before


MALFORMED_IDENTIFIERS = [
    ("ip", "300.1.1.1"),
    ("ip", "192.168.1"),
    ("ip", "192.168.001.1"),
    ("ip", "10.0.0.0/8"),
    ("ip", "fe80::1%eth0"),
    ("ip", "2001:db8::g"),
    ("email", "suspect@"),
    ("email", "two@@example.com"),
    ("email", "suspect.example.com"),
    ("email", "suspect@localhost"),
    ("phone", "030 1234567"),
    ("phone", "+1 800 FLOWERS"),
    ("phone", "+44 20 7946 09"),
    ("phone", "+999 1234567"),
    ("domain", "localhost"),
    ("domain", "-bad-.com"),
    ("domain", "exa mple.com"),
    ("domain", "example.123"),
    ("imei", "490154203237519"),
    ("imei", "49015420323751"),
    ("imei", "4901542032375181"),
    ("url", "ftp://example.com/file"),
    ("url", "http://"),
    ("url", "javascript:alert(1)"),
    ("url", "http://exa mple.com/"),
    ("account", "   "),
]


@pytest.mark.parametrize(("kind", "value"), MALFORMED_IDENTIFIERS)
async def test_malformed_identifier_is_refused_and_stores_nothing(filing: Filing, kind: str, value: str) -> None:
    before = await filing.stored()
    identifiers = [{"kind": "email", "value": "suspect@example.com"}, {"kind": kind, "value": value}]

    response = await filing.post(filing.body(identifiers=identifiers))

    problem = assert_problem(response, 422, "identifiers[1].value")
    assert f"invalid {kind} identifier" in problem["detail"]
    assert await filing.stored() == before


async def test_valid_identifiers_are_stored_normalised(filing: Filing) -> None:
    given_and_normalised = [
        ("ip", " 192.0.2.1 ", "192.0.2.1"),
        ("ip", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("email", "Suspect@EXAMPLE.com", "Suspect@example.com"),
        ("phone", "+44 20 7946 0958", "+442079460958"),
        ("phone", "+1 (202) 555-0143", "+12025550143"),
        ("domain", "Bücher.DE", "xn--bcher-kva.de"),
        ("domain", "Example.COM.", "example.com"),
        ("imei", "49-015420-323751-8", "490154203237518"),
        ("url", "HTTPS://Example.COM/Path?q=1", "https://example.com/Path?q=1"),
        ("account", "@suspect_handle", "@suspect_handle"),
    ]
    identifiers = [{"kind": kind, "value": given} for kind, given, _ in given_and_normalised]

    response = await filing.post(filing.body(identifiers=identifiers))

    assert response.status_code == 201, response.text
    expected = [(kind, normalised) for kind, _, normalised in given_and_normalised]
    assert [(i["kind"], i["value"]) for i in response.json()["identifiers"]] == expected
    stored = await filing.world.client.get(f"{REQUESTS}/{response.json()['id']}", headers=filing.org.headers())
    assert [(i["kind"], i["value"]) for i in stored.json()["identifiers"]] == expected


async def test_identifier_window_and_period_keep_their_instants(filing: Filing) -> None:
    window = {"kind": "ip", "value": "192.0.2.1", "from": "2026-08-01T00:00:00+02:00", "to": "2026-08-02T00:00:00Z"}

    response = await filing.post(
        filing.body(identifiers=[window], period_start="2026-08-01T00:00:00Z", period_end="2026-09-01T00:00:00+02:00")
    )

    assert response.status_code == 201, response.text
    stored = await filing.world.client.get(f"{REQUESTS}/{response.json()['id']}", headers=filing.org.headers())
    for answer in (response.json(), stored.json()):
        assert datetime.fromisoformat(answer["period_end"]) == datetime(2026, 8, 31, 22, tzinfo=UTC)
        assert datetime.fromisoformat(answer["identifiers"][0]["from"]) == datetime(2026, 7, 31, 22, tzinfo=UTC)


async def test_a_case_of_another_organisation_is_refused_exactly_like_an_unknown_case(
    filing: Filing, world: World
) -> None:
    stranger = await world.organisation()
    their_case = await world.case(stranger)
    before, theirs_before = await filing.stored(), await stored_by(world, stranger)

    theirs = await filing.post(filing.body(case_id=their_case["id"]))
    unknown = await filing.post(filing.body(case_id=UNKNOWN_ID))

    assert_problem(theirs, 422, "case_id")
    assert theirs.json() == unknown.json()
    assert await filing.stored() == before
    assert await stored_by(world, stranger) == theirs_before


# --- bodies that are not a JSON object of the right shape ------------------------------------

NESTED_TOO_DEEPLY = b'{"facts": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"


@pytest.mark.parametrize(
    ("content", "status"),
    [
        pytest.param(b"{not json", 400, id="malformed JSON"),
        pytest.param(b'{"case_id": ', 400, id="truncated JSON"),
        pytest.param(b'{"facts": "\xff\xfe"}', 400, id="invalid UTF-8"),
        pytest.param(b'{"priority": NaN}', 400, id="NaN"),
        pytest.param(NESTED_TOO_DEEPLY, 400, id="nested 10,000 deep"),
        pytest.param(b"[1, 2]", 422, id="array instead of object"),
        pytest.param(b'"a request"', 422, id="string instead of object"),
    ],
)
async def test_body_that_is_not_a_json_object_is_a_client_error_and_stores_nothing(
    filing: Filing, content: bytes, status: int
) -> None:
    before = await filing.stored()

    response = await filing.post_raw(content)

    assert_problem(response, status)
    assert await filing.stored() == before


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
async def test_body_not_declared_as_json_is_refused_with_415_and_stores_nothing(
    filing: Filing, content_type: str
) -> None:
    before = await filing.stored()

    response = await filing.post_raw(json.dumps(filing.body()).encode(), content_type)

    assert_problem(response, 415)
    assert await filing.stored() == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "APPLICATION/JSON"])
async def test_json_content_type_with_parameters_or_capitals_is_accepted(filing: Filing, content_type: str) -> None:
    response = await filing.post_raw(json.dumps(filing.body()).encode(), content_type)

    assert response.status_code == 201, response.text


async def test_body_over_the_size_limit_is_refused_with_413_and_stores_nothing(filing: Filing) -> None:
    before = await filing.stored()
    statements = {name: "x" * 20_000 for name in ("facts", "link_to_offence", "necessity", "proportionality")}
    body = filing.body(**statements)
    assert len(json.dumps(body)) > 65_536  # the test app's max_body_bytes

    response = await filing.post(body)

    assert_problem(response, 413)
    assert await filing.stored() == before


async def test_longest_statements_within_the_size_limit_are_accepted(filing: Filing) -> None:
    response = await filing.post(filing.body(facts="x" * 20_000, necessity="y" * 20_000))

    assert response.status_code == 201, response.text
    assert len(response.json()["facts"]) == 20_000


# --- PATCH /requests/{id} ----------------------------------------------------------------------


@pytest.fixture
async def draft(filing: Filing) -> dict[str, Any]:
    return await filing.world.request(filing.org, filing.case, filing.provider)


async def _audit_events_of(filing: Filing, request_id: str) -> int:
    async with filing.world.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.request_id == uuid.UUID(request_id))
        )
    return count or 0


INVALID_PATCHES = [
    pytest.param({"priority": 3}, {}, "version", id="no version"),
    pytest.param({"version": 0, "priority": 3}, {}, "version", id="version 0"),
    pytest.param({"version": None, "priority": 3}, {}, "version", id="null version"),
    pytest.param({"priority": 3}, {"If-Match": "latest"}, "If-Match", id="If-Match not a number"),
    pytest.param({"priority": 3}, {"If-Match": '"²"'.encode()}, "If-Match", id="If-Match superscript digit"),
    pytest.param({"version": 1, "urgency": "whenever"}, {}, "urgency", id="unknown urgency"),
    pytest.param({"version": 1, "data_categories": ["dna"]}, {}, "data_categories[0]", id="unknown category"),
    pytest.param({"version": 1, "data_categories": None}, {}, "data_categories", id="null categories"),
    pytest.param({"version": 1, "priority": 10}, {}, "priority", id="priority above 9"),
    pytest.param({"version": 1, "facts": None}, {}, "facts", id="null statement"),
    pytest.param({"version": 1, "facts": "x" * 20_001}, {}, "facts", id="statement too long"),
    pytest.param({"version": 1, "facts": "a\x00b"}, {}, "facts", id="NUL in a statement"),
    pytest.param(
        {"version": 1, "period_start": "2026-09-01T00:00:00Z", "period_end": "2026-08-01T00:00:00Z"},
        {},
        "period_end",
        id="period ends before it starts",
    ),
    pytest.param(
        {"version": 1, "period_end": "2020-01-01T00:00:00Z"}, {}, "period_end", id="end before the stored start"
    ),
    pytest.param({"version": 1, "period_end": "2026-10-01T00:00:00"}, {}, "period_end", id="naive period end"),
    pytest.param({"version": 1, "period_end": "3000-01-01T00:00:00Z"}, {}, "period_end", id="period end in year 3000"),
    pytest.param(
        {"version": 1, "identifiers": [{"kind": "ip", "value": "192.0.2.1", "from": "0001-01-01T00:00:00+14:00"}]},
        {},
        "identifiers[0].from",
        id="identifier window before year 1 in UTC",
    ),
    pytest.param(
        {"version": 1, "confidential": True}, {}, "confidentiality_reason", id="confidential without a stored reason"
    ),
    pytest.param(
        {"version": 1, "confidential": True, "confidentiality_reason": None},
        {},
        "confidentiality_reason",
        id="confidential with null reason",
    ),
    pytest.param(
        {"version": 1, "identifiers": [{"kind": "ip", "value": "1.2.3"}]},
        {},
        "identifiers[0].value",
        id="malformed identifier",
    ),
    pytest.param({"version": 1, "target_id": UNKNOWN_ID}, {}, "target_id", id="unknown target"),
    pytest.param({"version": 1, "instrument": "no-such-treaty"}, {}, "instrument", id="unknown instrument"),
    pytest.param({"version": 1, "instrument": "eu\x00epoc"}, {}, "instrument", id="NUL in the instrument code"),
    pytest.param(
        {"version": 1, "notified_enforcing_state": "DE"},
        {},
        "notified_enforcing_state",
        id="enforcing state is the issuing state",
    ),
    pytest.param({"version": 1, "status": "approved"}, {}, "status", id="status is not editable"),
    pytest.param({"version": 1, "reference": "MLA-1"}, {}, "reference", id="reference is not editable"),
]


@pytest.mark.parametrize(("changes", "headers", "field"), INVALID_PATCHES)
async def test_invalid_patch_is_refused_naming_the_field_and_changes_nothing(
    filing: Filing, draft: dict[str, Any], changes: dict[str, Any], headers: dict[str, Any], field: str
) -> None:
    url = f"{REQUESTS}/{draft['id']}"
    events = await _audit_events_of(filing, draft["id"])

    response = await filing.world.client.patch(url, json=changes, headers={**filing.org.headers(), **headers})

    assert_problem(response, 422, field)
    assert (await filing.world.client.get(url, headers=filing.org.headers())).json() == draft
    assert await _audit_events_of(filing, draft["id"]) == events


async def test_the_enforcing_state_is_another_member_state_than_the_issuer_but_may_be_ours_on_an_incoming_order(
    filing: Filing, draft: dict[str, Any]
) -> None:
    """Art 8(2): an order we (DE) issue is notified to another Member State's enforcing authority; on an
    incoming order the issuer is the requesting state, so we may be the enforcing state it notified."""
    url = f"{REQUESTS}/{draft['id']}"

    elsewhere = await filing.world.client.patch(
        url, json={"version": 1, "notified_enforcing_state": "ie"}, headers=filing.org.headers()
    )
    _, incoming = await filing.world.received(notified_enforcing_state="DE")

    assert elsewhere.status_code == 200, elsewhere.text
    assert elsewhere.json()["notified_enforcing_state"] == "IE"
    assert incoming["notified_enforcing_state"] == "DE"


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        pytest.param(b'{"version": 1, ', "application/json", 400, id="malformed JSON"),
        pytest.param(b'{"version": 1, "facts": "\xff"}', "application/json", 400, id="invalid UTF-8"),
        pytest.param(b"[1]", "application/json", 422, id="array instead of object"),
        pytest.param(b'{"version": 1, "priority": 2}', "text/plain", 415, id="not declared as JSON"),
    ],
)
async def test_unreadable_patch_is_a_client_error_and_changes_nothing(
    filing: Filing, draft: dict[str, Any], content: bytes, content_type: str, status: int
) -> None:
    url = f"{REQUESTS}/{draft['id']}"
    events = await _audit_events_of(filing, draft["id"])

    response = await filing.world.client.patch(
        url, content=content, headers={**filing.org.headers(), "content-type": content_type}
    )

    assert_problem(response, status)
    assert (await filing.world.client.get(url, headers=filing.org.headers())).json() == draft
    assert await _audit_events_of(filing, draft["id"]) == events


async def test_valid_patch_after_refused_ones_still_applies_to_version_1(filing: Filing, draft: dict[str, Any]) -> None:
    url = f"{REQUESTS}/{draft['id']}"
    await filing.world.client.patch(url, json={"version": 1, "priority": 10}, headers=filing.org.headers())

    response = await filing.world.client.patch(url, json={"version": 1, "priority": 9}, headers=filing.org.headers())

    assert response.status_code == 200, response.text
    assert response.json()["priority"] == 9
    assert response.json()["version"] == 2


# --- GET /requests query parameters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=", "limit"),
        ("status=bogus", "status"),
        ("type=bogus", "type"),
        ("direction=sideways", "direction"),
        ("urgency=whenever", "urgency"),
        ("data_category=dna", "data_category"),
        ("target=not-a-uuid", "target"),
        ("assignee=not-a-uuid", "assignee"),
        ("case=not-a-uuid", "case"),
        ("q=" + "x" * 101, "q"),
        ("q=MLA%00", "q"),
        ("cursor=not-a-cursor!", "cursor"),
        ("cursor=eyJ4IjoxfQ", "cursor"),  # base64 of {"x":1}: well encoded, but not one of ours
        ("cursor=%00", "cursor"),
    ],
)
async def test_invalid_list_parameter_is_a_422_naming_it(filing: Filing, query: str, field: str) -> None:
    response = await filing.world.client.get(f"{REQUESTS}?{query}", headers=filing.org.headers())

    assert_problem(response, 422, field)


async def test_a_query_parameter_error_says_it_comes_from_the_query(filing: Filing) -> None:
    response = await filing.world.client.get(f"{REQUESTS}?status=bogus", headers=filing.org.headers())

    problem = assert_problem(response, 422, "status")
    [error] = problem["errors"]
    assert (error["field"], error["source"]) == ("status", "query")
    assert error["message"].startswith("Invalid enum value 'bogus'; allowed values: draft, under_review, ")


@pytest.mark.parametrize("query", ["limit=1", "limit=200", "status=draft&q=PROD", "q=%C3%BC"])
async def test_list_parameters_at_their_bounds_are_accepted(filing: Filing, query: str) -> None:
    response = await filing.world.client.get(f"{REQUESTS}?{query}", headers=filing.org.headers())

    assert response.status_code == 200, response.text


# --- cases, which requests belong to ----------------------------------------------------------


def _case_body(**changes: Any) -> dict[str, Any]:
    body = {
        "reference": f"CASE-{uuid.uuid4().hex[:8]}",
        "title": "Ransomware attack on a hospital",
        "offences": [{"description": "Illegal system interference", "max_penalty_years": 5}],
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"title": "x" * 201}, "title", id="title of 201 characters"),
        pytest.param({"title": "   "}, "title", id="blank title"),
        pytest.param({"title": "a\x00b"}, "title", id="NUL in title"),
        pytest.param({"summary": "x" * 20_001}, "summary", id="summary of 20,001 characters"),
        pytest.param({"reference": "BER 17; DROP"}, "reference", id="reference with punctuation"),
        pytest.param({"reference": "x" * 65}, "reference", id="reference of 65 characters"),
        pytest.param({"offences": []}, "offences", id="no offence"),
        pytest.param(
            {"offences": [{"description": "Fraud", "max_penalty_years": -1}]},
            "offences[0].max_penalty_years",
            id="negative penalty",
        ),
    ],
)
async def test_invalid_case_is_refused_naming_the_field_and_stores_nothing(
    filing: Filing, changes: dict[str, Any], field: str
) -> None:
    before = await filing.stored()

    response = await filing.world.client.post("/api/v1/cases", json=_case_body(**changes), headers=filing.org.headers())

    assert_problem(response, 422, field)
    assert await filing.stored() == before
