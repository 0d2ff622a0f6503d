"""Input validation shared by the API's Structs (SPEC §7: malformed identifiers are a 422)."""

from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from mla.enums import IdentifierKind
from mla.fields import (
    AwareDatetime,
    Email,
    Identifier,
    LanguageCode,
    LongText,
    Password,
    Reference,
    ShortText,
    check_country,
    check_email,
    check_identifier,
    check_moment,
    check_period,
    check_timezone,
)


def _refused(kind: IdentifierKind, value: str) -> str:
    with pytest.raises(ValueError) as caught:
        check_identifier(kind, value)
    return str(caught.value)


# --- ip --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("192.0.2.1", "192.0.2.1"),
        (" 192.0.2.1 ", "192.0.2.1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::1", "::1"),
    ],
)
def test_ip_identifier_is_normalised_to_compressed_form(value, normalised):
    assert check_identifier(IdentifierKind.IP, value) == normalised


@pytest.mark.parametrize(
    "value",
    [
        "256.1.1.1",
        "1.2.3",
        "01.2.3.4",
        "2001:db8::g",
        "2001:db8:::1",
        "1:2:3:4:5:6:7:8:9",
        "192.0.2.0/24",
        "fe80::1%eth0",
        "example.com",
        "",
    ],
)
def test_malformed_ip_identifier_is_refused(value):
    assert "invalid ip identifier" in _refused(IdentifierKind.IP, value)


def test_ip_refusal_says_what_was_expected():
    assert "not an IPv4 or IPv6 address" in _refused(IdentifierKind.IP, "256.1.1.1")


# --- email -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("john.doe@example.com", "john.doe@example.com"),
        ("John.Doe+tag@Mail.Example.COM", "John.Doe+tag@mail.example.com"),
        ("user@bücher.de", "user@xn--bcher-kva.de"),
    ],
)
def test_email_identifier_lowercases_the_domain_and_keeps_the_local_part(value, normalised):
    assert check_identifier(IdentifierKind.EMAIL, value) == normalised


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a@b", "at least two labels"),
        ("a@@b.com", "exactly one '@'"),
        ("a@b@c.com", "exactly one '@'"),
        ("nobody.example.com", "exactly one '@'"),
        ("@example.com", "before '@' is empty"),
        ("x" * 65 + "@example.com", "at most 64"),
        (".a@example.com", "dot"),
        ("a..b@example.com", "dot"),
        ("a b@example.com", "not allowed"),
        ('"quoted"@example.com', "not allowed"),
        ("a@-bad.com", "hyphen"),
        ("a@[192.0.2.1]", "address literals"),
    ],
)
def test_malformed_email_identifier_is_refused_with_its_reason(value, reason):
    message = _refused(IdentifierKind.EMAIL, value)
    assert "invalid email identifier" in message
    assert reason in message


def test_check_email_normalises_like_the_identifier():
    assert check_email("Someone@Example.ORG") == "Someone@example.org"
    with pytest.raises(ValueError):
        check_email("a@b")


# --- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("+442079460958", "+442079460958"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (202) 456-1414", "+12024561414"),
        ("+33.1.42.68.53.00", "+33142685300"),
    ],
)
def test_phone_identifier_is_normalised_to_e164(value, normalised):
    assert check_identifier(IdentifierKind.PHONE, value) == normalised


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("+1555", "not a valid phone number"),
        ("442079460958", "starts with '+'"),
        ("0044 20 7946 0958", "starts with '+'"),
        ("+1 800 FLOWERS", "only digits"),
        ("+44 20 7946 0958 ext. 12", "only digits"),
        ("+", "only digits"),
        ("+999 123456", "not a phone number"),
    ],
)
def test_malformed_phone_identifier_is_refused_with_its_reason(value, reason):
    message = _refused(IdentifierKind.PHONE, value)
    assert "invalid phone identifier" in message
    assert reason in message


# --- domain ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("example.com", "example.com"),
        ("Mail.Example.COM", "mail.example.com"),
        ("example.com.", "example.com"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("Bücher.de", "xn--bcher-kva.de"),
        ("例え。テスト", "xn--r8jz45g.xn--zckzah"),
        ("a-b.c-d.example", "a-b.c-d.example"),
        ("a" * 63 + ".com", "a" * 63 + ".com"),
        ("123.example.com", "123.example.com"),
    ],
)
def test_domain_identifier_is_lowercased_ascii(value, normalised):
    assert check_identifier(IdentifierKind.DOMAIN, value) == normalised


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-bad.com", "hyphen"),
        ("bad-.com", "hyphen"),
        ("nodot", "at least two labels"),
        ("a" * 64 + ".com", "longer than 63"),
        ("a..com", "empty"),
        (".example.com", "empty"),
        ("ex_ample.com", "letters, digits and hyphens"),
        ("exa mple.com", "letters, digits and hyphens"),
        ("*.example.com", "letters, digits and hyphens"),
        ("192.0.2.1", "all digits"),
        ("xn--zz.com", "punycode"),
        (".".join(["a" * 63] * 4), "at most 253"),
    ],
)
def test_malformed_domain_identifier_is_refused_with_its_reason(value, reason):
    message = _refused(IdentifierKind.DOMAIN, value)
    assert "invalid domain identifier" in message
    assert reason in message


# --- imei ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("490154203237518", "490154203237518"),
        ("49-015420-323751-8", "490154203237518"),
        ("35 209900 176148 1", "352099001761481"),
    ],
)
def test_imei_identifier_with_valid_check_digit_is_accepted(value, normalised):
    assert check_identifier(IdentifierKind.IMEI, value) == normalised


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("490154203237519", "check digit (Luhn) is wrong"),
        ("490154203237510", "check digit (Luhn) is wrong"),
        ("49015420323751", "check digit is missing"),
        ("4901542032375181", "IMEISV"),
        ("4901542032", "15 digits"),
        ("49015420323751A", "15 digits"),
        ("٤٩٠١٥٤٢٠٣٢٣٧٥١٨", "15 digits"),  # Arabic-Indic digits are not an IMEI
    ],
)
def test_malformed_imei_identifier_is_refused_with_its_reason(value, reason):
    message = _refused(IdentifierKind.IMEI, value)
    assert "invalid imei identifier" in message
    assert reason in message


# --- url -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("https://example.com/a/b?c=D#E", "https://example.com/a/b?c=D#E"),
        ("HTTP://WWW.Example.COM/Path", "http://www.example.com/Path"),
        ("https://bücher.de:8443/x", "https://xn--bcher-kva.de:8443/x"),
        ("http://192.0.2.1/", "http://192.0.2.1/"),
        ("http://[2001:DB8::1]:8080/", "http://[2001:db8::1]:8080/"),
    ],
)
def test_url_identifier_normalises_scheme_and_host_only(value, normalised):
    assert check_identifier(IdentifierKind.URL, value) == normalised


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("ftp://example.com/file", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("example.com/path", "only http and https"),
        ("http:///path", "no host"),
        ("https://", "no host"),
        ("http://localhost/", "at least two labels"),
        ("http://256.1.1.1/", "all digits"),
        ("http://-bad.com/", "hyphen"),
        ("http://exa mple.com/", "spaces"),
        ("http://example.com/\npath", "control"),
        ("http://example.com:99999/", "not a valid URL"),
        ("http://[zz]/", "not a valid URL"),
    ],
)
def test_malformed_url_identifier_is_refused_with_its_reason(value, reason):
    message = _refused(IdentifierKind.URL, value)
    assert "invalid url identifier" in message
    assert reason in message


# --- account, other, and every kind's length --------------------------------------------------


@pytest.mark.parametrize("kind", [IdentifierKind.ACCOUNT, IdentifierKind.OTHER])
def test_free_text_identifier_is_stripped(kind):
    assert check_identifier(kind, "  @someone on Telegram \n") == "@someone on Telegram"


@pytest.mark.parametrize("kind", [IdentifierKind.ACCOUNT, IdentifierKind.OTHER])
@pytest.mark.parametrize(
    ("value", "reason"), [("", "empty"), ("  \t ", "empty"), ("a\x00b", "NUL"), ("x" * 501, "at most 500")]
)
def test_free_text_identifier_must_be_non_empty_and_short(kind, value, reason):
    assert reason in _refused(kind, value)


def test_free_text_identifier_of_exactly_500_characters_is_accepted():
    assert check_identifier(IdentifierKind.ACCOUNT, "x" * 500) == "x" * 500


@pytest.mark.parametrize("kind", list(IdentifierKind))
def test_every_kind_refuses_values_over_500_characters(kind):
    assert "at most 500" in _refused(kind, "1" * 501)


def test_kind_may_be_given_as_its_string_value():
    assert check_identifier("ip", "2001:DB8::1") == "2001:db8::1"


def test_refusal_message_shortens_long_values():
    message = _refused(IdentifierKind.OTHER, "y" * 501)
    assert "y" * 78 not in message
    assert "..." in message


# --- country and time zone -------------------------------------------------------------------


@pytest.mark.parametrize(("code", "normalised"), [("GB", "GB"), ("gb", "GB"), ("De", "DE")])
def test_country_code_is_accepted_in_any_case_and_returned_upper_case(code, normalised):
    assert check_country(code) == normalised


@pytest.mark.parametrize("code", ["XX", "xx", "GBR", "G", "", " GB", "UK", "12", "ÖS"])
def test_unknown_country_code_is_refused(code):
    with pytest.raises(ValueError, match="is not an ISO 3166-1 alpha-2 country code") as caught:
        check_country(code)
    assert repr(code) in str(caught.value)


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/Argentina/Buenos_Aires", "UTC"])
def test_iana_time_zone_is_accepted(name):
    assert check_timezone(name) == name


@pytest.mark.parametrize("name", ["Mars/Olympus", "europe/berlin", "Europe/Berlin ", "+02:00", "", "localtime"])
def test_unknown_time_zone_is_refused(name):
    with pytest.raises(ValueError, match="is not an IANA time zone name"):
        check_timezone(name)


# --- periods ---------------------------------------------------------------------------------

_T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_period_with_start_before_end_is_accepted():
    assert check_period(_T0, _T0 + timedelta(seconds=1)) is None


def test_period_across_offsets_is_compared_as_instants():
    # 13:00+02:00 is 11:00 UTC: before 12:00 UTC.
    start = datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=2)))
    assert check_period(start, _T0) is None


@pytest.mark.parametrize("end", [_T0, _T0 - timedelta(days=1)])
def test_period_ending_at_or_before_its_start_is_refused(end):
    with pytest.raises(ValueError, match="`period_start` .* must be before `period_end`"):
        check_period(_T0, end)


def test_period_message_uses_the_given_field_names():
    with pytest.raises(ValueError, match="`from` .* must be before `to`"):
        check_period(_T0, _T0, start_field="from", end_field="to")


def test_naive_period_bound_is_refused():
    with pytest.raises(ValueError, match="`period_end` must include a UTC offset"):
        check_period(_T0, datetime(2026, 4, 1))


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1900, 1, 1, tzinfo=UTC),
        datetime(1900, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1))),  # 1900-01-01T00:00Z
        datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ],
)
def test_a_moment_from_1900_to_2999_in_utc_is_accepted_and_given_back_in_utc(moment):
    accepted = check_moment(moment)

    assert accepted == moment and accepted.tzinfo is UTC


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=12))),  # before year 1 in UTC
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12))),  # after year 9999 in UTC
        datetime(1899, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-2))),  # 3000-01-01T01:00Z
    ],
)
def test_a_moment_out_of_range_is_refused(moment):
    with pytest.raises(ValueError, match="out of range"):
        check_moment(moment)


# --- the Identifier Struct -------------------------------------------------------------------


class _RequestBody(msgspec.Struct):
    identifiers: list[Identifier]


def _decode_error(body: bytes, type_=Identifier) -> str:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(body, type=type_)
    return str(caught.value)


def test_identifier_is_decoded_and_normalised():
    identifier = msgspec.json.decode(
        b'{"kind": "ip", "value": "2001:DB8::0:1", "from": "2026-01-01T00:00:00+01:00", "to": "2026-01-02T00:00:00Z"}',
        type=Identifier,
    )
    assert identifier.kind is IdentifierKind.IP
    assert identifier.value == "2001:db8::1"
    assert identifier.from_ == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    assert identifier.to == datetime(2026, 1, 2, tzinfo=UTC)


def test_identifier_time_window_is_optional_and_encoded_as_from():
    identifier = msgspec.json.decode(b'{"kind": "phone", "value": "+44 20 7946 0958"}', type=Identifier)
    assert (identifier.value, identifier.from_, identifier.to) == ("+442079460958", None, None)
    encoded = msgspec.json.decode(
        msgspec.json.encode(Identifier(kind=IdentifierKind.EMAIL, value="a@example.com", from_=_T0))
    )
    assert encoded["from"] == "2026-03-01T12:00:00Z"
    assert "from_" not in encoded


def test_identifier_is_validated_when_built_in_code():
    with pytest.raises(ValueError, match="invalid imei identifier"):
        Identifier(kind=IdentifierKind.IMEI, value="490154203237519")


def test_malformed_identifier_value_is_a_validation_error_naming_value_and_path():
    message = _decode_error(
        b'{"identifiers": [{"kind": "email", "value": "a@example.com"}, {"kind": "ip", "value": "256.1.1.1"}]}',
        _RequestBody,
    )
    assert "invalid ip identifier '256.1.1.1'" in message
    assert "$.identifiers[1]" in message


def test_malformed_identifier_at_top_level_names_the_problem():
    message = _decode_error(b'{"kind": "imei", "value": "490154203237519"}')
    assert "invalid imei identifier '490154203237519': the check digit (Luhn) is wrong" in message


def test_identifier_window_ending_before_it_starts_is_refused():
    message = _decode_error(
        b'{"identifiers": [{"kind": "domain", "value": "example.com", '
        b'"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}]}',
        _RequestBody,
    )
    assert "`from`" in message and "must be before `to`" in message
    assert "$.identifiers[0]" in message


def test_identifier_window_of_zero_length_is_refused():
    message = _decode_error(
        b'{"kind": "domain", "value": "example.com", "from": "2026-01-01T00:00:00Z", "to": "2026-01-01T01:00:00+01:00"}'
    )
    assert "must be before `to`" in message


def test_identifier_window_with_only_one_bound_is_accepted():
    identifier = msgspec.json.decode(
        b'{"kind": "url", "value": "https://example.com/", "to": "2026-01-01T00:00:00Z"}',
        type=Identifier,
    )
    assert identifier.from_ is None and identifier.to is not None


def test_naive_identifier_time_is_refused_with_its_path():
    message = _decode_error(
        b'{"identifiers": [{"kind": "domain", "value": "example.com", "from": "2026-01-01T00:00:00"}]}',
        _RequestBody,
    )
    assert "timezone" in message
    assert "$.identifiers[0].from" in message


@pytest.mark.parametrize(
    ("body", "problem", "path"),
    [
        (b'{"kind": "fax", "value": "1"}', "Invalid enum value 'fax'", "$.kind"),
        (b'{"kind": "ip"}', "missing required field `value`", ""),
        (b'{"kind": "ip", "value": "1.1.1.1", "from_": null}', "unknown field `from_`", ""),
        (b'{"kind": "ip", "value": "1.1.1.1", "note": 1}', "unknown field `note`", ""),
        (b'{"kind": "ip", "value": 3232235777}', "Expected `str`", "$.value"),
        (b'{"kind": "other", "value": "' + b"x" * 501 + b'"}', "length <= 500", "$.value"),
    ],
)
def test_identifier_shape_errors_name_problem_and_path(body, problem, path):
    message = _decode_error(body)
    assert problem in message
    assert path in message


# --- constrained string types ----------------------------------------------------------------


class _Form(msgspec.Struct, forbid_unknown_fields=True):
    title: ShortText = "t"
    facts: LongText = "f"
    reference: Reference = "R-1"
    email: Email = "a@example.com"
    language: LanguageCode = "en"
    password: Password = "password"
    at: AwareDatetime | None = None


def _form(**fields) -> _Form:
    return msgspec.convert(fields, _Form)


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "x" * 200},
        {"facts": "x" * 20_000},
        {"facts": "Line one\n\nline two"},
        {"reference": "MLA-2026-000123"},
        {"reference": "123 Js 456/24"},
        {"reference": "Aktenzeichen_Ä.1"},
        {"reference": "x" * 64},
        {"email": "someone@example.org"},
        {"language": "de"},
        {"language": "pt-BR"},
        {"language": "fil"},
        {"password": "x" * 8},
        {"password": "x" * 200},
        {"at": "2026-01-01T00:00:00+05:30"},
    ],
)
def test_constrained_types_accept_valid_values(fields):
    form = _form(**fields)
    for name, value in fields.items():
        if name != "at":
            assert getattr(form, name) == value


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"title": ""}, "$.title"),
        ({"title": "x" * 201}, "$.title"),
        ({"title": "   "}, "$.title"),
        ({"title": "a\x00b"}, "$.title"),
        ({"facts": "x" * 20_001}, "$.facts"),
        ({"facts": "\n\t "}, "$.facts"),
        ({"reference": ""}, "$.reference"),
        ({"reference": "x" * 65}, "$.reference"),
        ({"reference": "MLA;DROP"}, "$.reference"),
        ({"reference": " MLA-1"}, "$.reference"),
        ({"reference": "MLA  1"}, "$.reference"),
        ({"email": "not-an-email"}, "$.email"),
        ({"email": "a b@example.com"}, "$.email"),
        ({"email": "a@" + "x" * 250 + ".com"}, "$.email"),
        ({"language": "EN"}, "$.language"),
        ({"language": "en-gb"}, "$.language"),
        ({"language": "en_GB"}, "$.language"),
        ({"language": "english"}, "$.language"),
        ({"password": "x" * 7}, "$.password"),
        ({"password": "x" * 201}, "$.password"),
        ({"at": "2026-01-01T00:00:00"}, "$.at"),
    ],
)
def test_constrained_types_refuse_invalid_values_with_their_path(fields, path):
    with pytest.raises(msgspec.ValidationError, match=f"at `{path.replace('$', '[$]')}`"):
        _form(**fields)


def test_long_text_pattern_is_fast_on_a_long_blank_or_nul_value():
    # A backtracking pattern would take seconds here; the look-ahead form is linear.
    import time

    started = time.perf_counter()
    for value in (" " * 19_999 + "\x00", "x" * 19_999 + "\x00"):
        with pytest.raises(msgspec.ValidationError):
            _form(facts=value)
    assert time.perf_counter() - started < 1.0
