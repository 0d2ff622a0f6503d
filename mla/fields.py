"""Reusable input validation for the API's msgspec Structs (SPEC §4, §7, §9, §11).

Two kinds of tools live here:

- constrained string types (``ShortText``, ``Reference``, ``Email``...) that msgspec checks while
  decoding, so a bad value is refused with its JSON path (``... - at `$.title```);
- validator functions (``check_country``, ``check_timezone``, ``check_identifier``,
  ``check_period``) that raise ``ValueError`` and return the normalised value. Call them from a
  Struct's ``__post_init__`` inside ``with at_field("name"):`` and assign the result back:
  msgspec turns the ``ValueError`` into a ``msgspec.ValidationError`` whose path is the
  *Struct's* path, not the field's, so ``at_field`` re-raises it as a ``FieldError`` that
  carries the field's name, and the 422 problem (mla/errors.py) names the field.

Malformed identifiers are refused at input (SPEC §7), so the rules engine only ever sees
normalised values: compressed IP addresses, E.164 phone numbers, lower-case ASCII domains.
"""

import functools
import importlib.resources
import ipaddress
import re
import urllib.parse
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import msgspec
import phonenumbers
import pycountry

from mla.enums import IdentifierKind

__all__ = [
    "IDENTIFIER_MAX_LENGTH",
    "AwareDatetime",
    "Email",
    "FieldError",
    "Identifier",
    "LanguageCode",
    "LongText",
    "Password",
    "Reference",
    "ShortText",
    "at_field",
    "check_country",
    "check_email",
    "check_identifier",
    "check_moment",
    "check_period",
    "check_timezone",
]

# Free text must contain something other than whitespace, and never NUL: PostgreSQL text columns
# cannot store U+0000, and asyncpg would fail with a 500 instead of a 422. The look-ahead form
# keeps the pattern linear on 20,000-character inputs.
_TEXT_PATTERN = r"\A(?!\s*\Z)[^\x00]*\Z"

ShortText = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=200,
        pattern=_TEXT_PATTERN,
        description="Text of 1 to 200 characters, not blank.",
    ),
]
LongText = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=20_000,
        pattern=_TEXT_PATTERN,
        description="Text of 1 to 20,000 characters, not blank.",
    ),
]
# A case or file reference, ours or a counterparty's: words of letters, digits and -_/.
# separated by single spaces (no leading, trailing or doubled spaces). Letters may be non-ASCII.
Reference = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[\w\-/.]+( [\w\-/.]+)*$",
        description="Reference of 1 to 64 letters, digits, '-', '_', '/', '.' and single spaces.",
        examples=["MLA-2026-000123"],
    ),
]
# A user's e-mail address (login, notifications). Deliberately basic; e-mail *identifiers* in a
# request are checked strictly by check_email()/check_identifier().
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="E-mail address.",
        examples=["prosecutor@example.org"],
    ),
]
LanguageCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$",
        description="ISO 639 language code, optionally with an ISO 3166 region: 'en', 'pt-BR'.",
        examples=["en", "pt-BR"],
    ),
]
Password = Annotated[
    str,
    msgspec.Meta(min_length=8, max_length=200, description="Password of 8 to 200 characters."),
]
# msgspec's plain `datetime` accepts naive values; every time in the API carries an offset (§11).
AwareDatetime = Annotated[
    datetime,
    msgspec.Meta(tz=True, description="RFC 3339 date-time with an offset."),
]


# --- refusals that name their field ---------------------------------------------------------


class FieldError(ValueError):
    """A value refused in a Struct's ``__post_init__``, with the JSON name of the field at fault.

    msgspec reports it at the Struct's path (``$.identifiers[0]``); the API appends ``field``
    (``identifiers[0].value``) so a client can tell which field to fix.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@contextmanager
def at_field(field: str) -> Iterator[None]:
    """Re-raise a ``ValueError`` from the block as a ``FieldError`` naming ``field``."""
    try:
        yield
    except FieldError:
        raise
    except ValueError as error:
        raise FieldError(field, str(error)) from None


# --- countries and time zones ---------------------------------------------------------------


def check_country(code: str) -> str:
    """Return ``code`` as an upper-case ISO 3166-1 alpha-2 country code.

    Lower case is accepted and upper-cased (``"gb"`` -> ``"GB"``): the letters are unambiguous
    and clients often send them lower-case. Refuses anything that is not exactly two letters of
    an assigned code (``"XX"``, ``"GBR"``, ``" GB"``), including user-assigned codes such as
    ``"XK"`` that pycountry does not list.
    """
    if len(code) == 2 and code.isascii() and code.isalpha():
        upper = code.upper()
        if pycountry.countries.get(alpha_2=upper) is not None:
            return upper
    raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")


@functools.cache
def _timezone_names() -> frozenset[str]:
    # "localtime" depends on the host and "Factory" is a placeholder zone: neither is a place.
    return frozenset(zoneinfo.available_timezones() - {"localtime", "Factory"})


def check_timezone(name: str) -> str:
    """Return ``name`` if it is an IANA time zone name (``"Europe/Berlin"``, ``"UTC"``).

    Names are case-sensitive, as in the IANA database; refuses unknown or mis-cased names
    (``"Mars/Olympus"``, ``"europe/berlin"``) and the host-dependent ``"localtime"``.
    """
    if name in _timezone_names():
        return name
    raise ValueError(f"{name!r} is not an IANA time zone name (e.g. 'Europe/Berlin')")


# Countries whose first zone in tzdata's zone.tab is not where their capital is.
_CAPITAL_ZONES = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "FM": "Pacific/Pohnpei",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "UZ": "Asia/Tashkent",
}


@functools.cache
def _first_zones() -> dict[str, str]:
    """Country code -> its first zone in the pinned tzdata package's zone.tab (not the host's)."""
    zones: dict[str, str] = {}
    for line in importlib.resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text().splitlines():
        if line and not line.startswith("#"):
            country, _, zone, *_ = line.split("\t")
            zones.setdefault(country, zone)
    return zones


def default_timezone(country: str) -> str:
    """The IANA zone a country's calendar is read in when none was given: its capital's, or UTC.

    Countries spanning several zones (US, RU, AU...) get their capital's zone; set another one
    where the party who must act sits elsewhere (a provider on the US west coast).
    """
    code = country.upper()
    return _CAPITAL_ZONES.get(code) or _first_zones().get(code) or "UTC"


# --- moments and periods ---------------------------------------------------------------------

# A time a client sends is stored by PostgreSQL and fed to the deadline arithmetic, which adds days
# or years to it; Python's datetime ends at 9999 and begins at year 1, in UTC too. Outside a window
# far wider than any case, either would fail with a 500 instead of a 422.
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(3000, 1, 1, tzinfo=UTC)  # excluded


def check_moment(value: datetime) -> datetime:
    """Return the aware ``value`` in UTC, as it is stored and answered (SPEC §11), if it lies in the years
    1900 to 2999; refuse it otherwise."""
    if not EARLIEST_MOMENT <= value < LATEST_MOMENT:
        raise ValueError(f"{value.isoformat()} is out of range: give a time in the years 1900 to 2999")
    return value.astimezone(UTC)


def check_period(
    start: datetime,
    end: datetime,
    *,
    start_field: str = "period_start",
    end_field: str = "period_end",
) -> None:
    """Refuse a period whose start is not strictly before its end, or that lacks a UTC offset.

    ``start_field``/``end_field`` are the JSON names used in the message, so a client can tell
    which fields to fix; the ``FieldError`` blames the end of a period that ends too early.
    """
    for field_name, value in ((start_field, start), (end_field, end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise FieldError(field_name, f"`{field_name}` must include a UTC offset")
    if start >= end:
        raise FieldError(
            end_field, f"`{start_field}` ({start.isoformat()}) must be before `{end_field}` ({end.isoformat()})"
        )


# --- identifiers -----------------------------------------------------------------------------

IDENTIFIER_MAX_LENGTH = 500

_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# The full stops IDNA treats as label separators (ideographic, fullwidth, halfwidth).
_IDNA_DOTS = re.compile("[\u3002\uff0e\uff61]")
# RFC 5322 dot-atom local part; non-ASCII characters allowed as in RFC 6531 (SMTPUTF8).
_EMAIL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+"
_EMAIL_LOCAL = re.compile(rf"{_EMAIL_ATOM}(?:\.{_EMAIL_ATOM})*")
# Digits and the usual visual separators only: phonenumbers would silently turn letters into
# digits ("+1 800 FLOWERS"), which is never what an investigator means.
_PHONE_CHARS = re.compile(r"\+[0-9 ().\-]+")
_WHITESPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


class _Refused(ValueError):
    """A reason an identifier value is malformed; check_identifier adds kind and value."""


def _check_ip(value: str) -> str:
    if "%" in value:
        # A zone index ("fe80::1%eth0") names an interface on the sender's host, not an address.
        raise _Refused("an IPv6 zone index ('%...') is not allowed")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise _Refused("not an IPv4 or IPv6 address") from None


def _check_domain(value: str) -> str:
    name = _IDNA_DOTS.sub(".", value)
    if name.endswith("."):
        name = name[:-1]  # a fully qualified name's root dot
    labels = name.split(".")
    if len(labels) < 2:
        raise _Refused("a domain needs at least two labels (e.g. 'example.com')")
    ascii_labels = []
    for label in labels:
        if not label:
            raise _Refused("a domain label is empty (two dots in a row, or a leading dot)")
        if not label.isascii():
            try:
                label = label.encode("idna").decode("ascii")
            except UnicodeError:
                raise _Refused(f"label {label!r} is not a valid internationalised label") from None
        label = label.lower()
        if len(label) > 63:
            raise _Refused(f"label {label[:20]!r}... is longer than 63 characters")
        if not _DOMAIN_LABEL.fullmatch(label):
            raise _Refused(f"label {label!r} must be letters, digits and hyphens, not starting or ending with a hyphen")
        if label.startswith("xn--"):
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                raise _Refused(f"label {label!r} is not valid punycode") from None
        ascii_labels.append(label)
    if ascii_labels[-1].isdigit():
        raise _Refused("the top-level domain cannot be all digits")
    result = ".".join(ascii_labels)
    if len(result) > 253:
        raise _Refused("a domain name is at most 253 characters")
    return result


def _check_email(value: str) -> str:
    if value.count("@") != 1:
        raise _Refused("an e-mail address has exactly one '@'")
    local, domain = value.split("@")
    if not local:
        raise _Refused("the part before '@' is empty")
    if len(local) > 64:
        raise _Refused("the part before '@' is at most 64 characters")
    if not _EMAIL_LOCAL.fullmatch(local):
        raise _Refused("the part before '@' has a character that is not allowed, or a leading, trailing or doubled dot")
    if domain.startswith("["):
        raise _Refused("address literals ('user@[1.2.3.4]') are not accepted; give a domain")
    result = f"{local}@{_check_domain(domain)}"
    if len(result) > 254:
        raise _Refused("an e-mail address is at most 254 characters")
    return result


def _check_phone(value: str) -> str:
    if not value.startswith("+"):
        raise _Refused("an E.164 number starts with '+' and the country code")
    if not _PHONE_CHARS.fullmatch(value):
        raise _Refused("only digits, spaces and . - ( ) may follow the '+'")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise _Refused("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise _Refused("not a valid phone number for its country code")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _luhn_is_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _check_imei(value: str) -> str:
    digits = re.sub(r"[ \-]", "", value)  # IMEIs are often written "49-015420-323751-8"
    if not (digits.isascii() and digits.isdigit()):
        raise _Refused("an IMEI is 15 digits")
    if len(digits) == 14:
        raise _Refused("the check digit is missing: an IMEI is 15 digits")
    if len(digits) == 16:
        raise _Refused("this looks like an IMEISV (16 digits); give the 15-digit IMEI")
    if len(digits) != 15:
        raise _Refused(f"an IMEI is 15 digits, not {len(digits)}")
    if not _luhn_is_valid(digits):
        raise _Refused("the check digit (Luhn) is wrong")
    return digits


def _check_url(value: str) -> str:
    # urlsplit silently drops tabs and newlines (WHATWG); refuse them rather than guess.
    if _WHITESPACE_OR_CONTROL.search(value):
        raise _Refused("a URL cannot contain spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError as error:
        raise _Refused(f"not a valid URL ({error})") from None
    if parts.scheme not in ("http", "https"):
        raise _Refused("only http and https URLs are accepted")
    host = parts.hostname  # already lower-cased, brackets removed
    if not host:
        raise _Refused("the URL has no host")
    if parts.netloc.rpartition("@")[2].startswith("["):
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError:
            raise _Refused("the bracketed host is not an IPv6 address") from None
        host = f"[{address}]"
    else:
        try:
            host = str(ipaddress.IPv4Address(host))
        except ValueError:
            host = _check_domain(host)
    userinfo, at, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}{at}{host}" + (f":{port}" if port is not None else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _check_free_text(value: str) -> str:
    if "\x00" in value:
        raise _Refused("the value contains a NUL character")
    return value


_CHECKS = {
    IdentifierKind.IP: _check_ip,
    IdentifierKind.EMAIL: _check_email,
    IdentifierKind.PHONE: _check_phone,
    IdentifierKind.DOMAIN: _check_domain,
    IdentifierKind.IMEI: _check_imei,
    IdentifierKind.URL: _check_url,
    IdentifierKind.ACCOUNT: _check_free_text,
    IdentifierKind.OTHER: _check_free_text,
}


def _shown(value: str) -> str:
    # Echo enough of the value to recognise it, not a 500-character wall.
    return repr(value) if len(value) <= 80 else repr(value[:77] + "...")


def check_identifier(kind: IdentifierKind | str, value: str) -> str:
    """Return ``value`` normalised for its identifier ``kind``; refuse a malformed one.

    Surrounding whitespace is stripped for every kind. Then:

    - ``ip``: IPv4 or IPv6, returned compressed (``2001:DB8:0::1`` -> ``2001:db8::1``); refuses
      leading-zero octets, CIDR ranges and IPv6 zone indexes.
    - ``email``: one ``@``, a dot-atom local part of at most 64 characters (case kept), a domain
      checked and normalised as ``domain``; refuses quoted local parts and address literals.
    - ``phone``: E.164, starting with ``+``; spaces, dots, hyphens and brackets are allowed and
      dropped, letters are refused; must be a valid number for its country; returned as
      ``+<digits>``.
    - ``domain``: at least two labels of 1-63 letters, digits or hyphens, not starting or
      ending with a hyphen, an all-digit TLD refused, at most 253 characters; one trailing root
      dot dropped. Internationalised names are converted with Python's ``idna`` codec
      (IDNA 2003) and returned as lower-case A-labels (``bücher.de`` -> ``xn--bcher-kva.de``).
    - ``imei``: 15 digits with a valid Luhn check digit; spaces and hyphens are dropped; 14
      digits are refused as a missing check digit, 16 as an IMEISV.
    - ``url``: http or https with a host that is an IP address or a valid domain; scheme and
      host are normalised (lower case, A-labels), path, query and fragment kept as given.
    - ``account``, ``other``: any non-empty text.

    Every value, before and after normalisation, is at most 500 characters.
    """
    kind = IdentifierKind(kind)
    stripped = value.strip()
    try:
        if len(stripped) > IDENTIFIER_MAX_LENGTH:
            raise _Refused(f"an identifier is at most {IDENTIFIER_MAX_LENGTH} characters")
        if not stripped:
            raise _Refused("the value is empty")
        result = _CHECKS[kind](stripped)
        if len(result) > IDENTIFIER_MAX_LENGTH:
            raise _Refused(f"an identifier is at most {IDENTIFIER_MAX_LENGTH} characters")
    except _Refused as reason:
        raise ValueError(f"invalid {kind.value} identifier {_shown(stripped)}: {reason}") from None
    return result


def identifier_forms(value: str) -> list[tuple[str, str]]:
    """Every (kind, normalised value) an identifier typed as `value` may be stored as: one per kind
    that accepts it (`account` and `other` accept any non-blank text), none for a blank one."""
    forms = []
    for kind in IdentifierKind:
        try:
            forms.append((kind.value, check_identifier(kind, value)))
        except ValueError:
            continue  # not a well-formed identifier of this kind: no request can hold it as one
    return forms


def check_email(value: str) -> str:
    """Return an e-mail address normalised as for an ``email`` identifier (domain lower-cased).

    For user accounts, where the ``Email`` type's basic pattern is not enough.
    """
    return check_identifier(IdentifierKind.EMAIL, value)


class Identifier(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One identifier of a request (SPEC §4, §11): ``{"kind", "value", "from"?, "to"?}``.

    ``value`` is normalised by ``check_identifier``; ``from``/``to`` bound the time window the
    data is asked for, must carry an offset, and ``from`` must be before ``to`` when both are
    given. Either alone is an open-ended window.
    """

    kind: IdentifierKind
    value: Annotated[str, msgspec.Meta(max_length=IDENTIFIER_MAX_LENGTH)]
    from_: AwareDatetime | None = msgspec.field(default=None, name="from")
    to: AwareDatetime | None = None

    def __post_init__(self) -> None:
        with at_field("value"):
            self.value = check_identifier(self.kind, self.value)
        for name, moment in (("from", self.from_), ("to", self.to)):
            if moment is not None:
                with at_field(name):
                    check_moment(moment)  # before converting to UTC, which overflows near year 1 or 9999
        if self.from_ is not None and self.to is not None:
            check_period(self.from_, self.to, start_field="from", end_field="to")
        # Stored in UTC (SPEC §11), so the same instant sent with another offset is the same value.
        self.from_ = None if self.from_ is None else self.from_.astimezone(UTC)
        self.to = None if self.to is None else self.to.astimezone(UTC)
