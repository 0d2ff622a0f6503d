"""The people and places the seeded requests belong to: authorities, prosecution services, users with
API tokens, counterparties and cases, inserted set-wise, and kept (picklable) for the load generator.

Request volume is skewed the way real traffic is: the authority of rank k carries a weight of
1/sqrt(k), so the busiest queue is about four times the median one.
"""

import json
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from mla.users.credentials import new_api_token, token_digest

# Forty states with a central authority each, and the time zone their calendar runs in.
COUNTRIES = (
    ("DE", "Europe/Berlin"), ("FR", "Europe/Paris"), ("IT", "Europe/Rome"), ("ES", "Europe/Madrid"),
    ("NL", "Europe/Amsterdam"), ("BE", "Europe/Brussels"), ("AT", "Europe/Vienna"), ("PL", "Europe/Warsaw"),
    ("CZ", "Europe/Prague"), ("SE", "Europe/Stockholm"), ("DK", "Europe/Copenhagen"), ("FI", "Europe/Helsinki"),
    ("PT", "Europe/Lisbon"), ("IE", "Europe/Dublin"), ("GR", "Europe/Athens"), ("RO", "Europe/Bucharest"),
    ("HU", "Europe/Budapest"), ("BG", "Europe/Sofia"), ("HR", "Europe/Zagreb"), ("SK", "Europe/Bratislava"),
    ("SI", "Europe/Ljubljana"), ("LT", "Europe/Vilnius"), ("LV", "Europe/Riga"), ("EE", "Europe/Tallinn"),
    ("LU", "Europe/Luxembourg"), ("MT", "Europe/Malta"), ("CY", "Asia/Nicosia"), ("NO", "Europe/Oslo"),
    ("CH", "Europe/Zurich"), ("GB", "Europe/London"), ("US", "America/New_York"), ("CA", "America/Toronto"),
    ("JP", "Asia/Tokyo"), ("KR", "Asia/Seoul"), ("AU", "Australia/Sydney"), ("BR", "America/Sao_Paulo"),
    ("MX", "America/Mexico_City"), ("ZA", "Africa/Johannesburg"), ("IN", "Asia/Kolkata"), ("UA", "Europe/Kyiv"),
)  # fmt: skip
PROVIDERS = 30
OFFICERS_PER_AUTHORITY = 3  # plus one supervisor
PROSECUTORS_PER_SERVICE = 2
REQUESTS_PER_CASE = 10
INCOMING_SHARE = 0.10  # of an authority's requests, recorded by the authority itself
TOKEN_LIFETIME = timedelta(days=90)


@dataclass
class Member:
    id: uuid.UUID
    token: str


@dataclass
class Organisation:
    id: uuid.UUID
    authority: int  # index into World.authorities (itself, for an authority)
    members: list[Member]  # officers (authorities) or prosecutors (prosecution services)
    cases: list[uuid.UUID] = field(default_factory=list)
    weight: float = 0.0  # share of all requests it owns


@dataclass
class Rule:
    id: uuid.UUID
    code: str
    kind: str
    name: str
    source: str
    opens_on: str
    reminder_leads_hours: list[int]
    # urgency -> (amount, unit); amount None: the clock does not run at that urgency.
    durations: dict[str, tuple[int | None, str]]
    amount_from_instrument: bool
    pauses_on_clarification: bool
    met_when_passed: bool
    lapses_request: bool


@dataclass
class World:
    authorities: list[Organisation]
    services: list[Organisation]  # prosecution services, each reporting to one authority
    states: list[uuid.UUID]
    providers: list[uuid.UUID]
    rules: dict[str, Rule]
    supervisors: list[Member]  # one per authority, same order
    preservation_days: dict[str, int | None]  # instrument code -> days

    @property
    def organisations(self) -> int:
        return len(self.authorities) + len(self.services)

    def owners(self) -> list[tuple[Organisation, bool]]:
        """Every organisation that owns requests, with whether its requests are incoming."""
        return [(a, True) for a in self.authorities] + [(s, False) for s in self.services]


async def build_world(connection: asyncpg.Connection, now: datetime, requests: int, rng: random.Random) -> World:
    """Insert the organisations, users, tokens, counterparties and cases; return what the load needs."""
    authorities, services, supervisors = _organisations(rng)
    _weigh(authorities, services)
    await _insert_organisations(connection, authorities, services, now)
    await _insert_users(connection, authorities, services, supervisors, now)
    states, providers = await _insert_counterparties(connection, now)
    await _insert_cases(connection, authorities + services, requests, now, rng)
    rules = {row["code"]: _rule(row) for row in await connection.fetch("SELECT * FROM deadline_rules")}
    preservation_days = dict(await connection.fetch("SELECT code, preservation_days FROM instruments"))
    return World(authorities, services, states, providers, rules, supervisors, preservation_days)


def _rule(row: asyncpg.Record) -> Rule:
    durations = {u: (row[f"{u}_amount"], row[f"{u}_unit"]) for u in ("routine", "urgent", "emergency")}
    return Rule(
        row["id"], row["code"], row["kind"], row["name"], row["source"], row["opens_on"],
        list(row["reminder_leads_hours"]), durations, row["amount_from_instrument"], row["pauses_on_clarification"],
        row["met_when_passed"], row["lapses_request"],
    )  # fmt: skip


def _members(count: int) -> list[Member]:
    return [Member(uuid.uuid4(), new_api_token()) for _ in range(count)]


def _organisations(rng: random.Random) -> tuple[list[Organisation], list[Organisation], list[Member]]:
    authorities, services, supervisors = [], [], []
    for index, _country in enumerate(COUNTRIES):
        authorities.append(Organisation(uuid.uuid4(), index, _members(OFFICERS_PER_AUTHORITY)))
        supervisors.append(_members(1)[0])
        for _ in range(5 + rng.randrange(5)):
            services.append(Organisation(uuid.uuid4(), index, _members(PROSECUTORS_PER_SERVICE)))
    return authorities, services, supervisors


def _weigh(authorities: list[Organisation], services: list[Organisation]) -> None:
    weights = [1 / math.sqrt(rank + 1) for rank in range(len(authorities))]
    total = sum(weights)
    per_authority = {index: [s for s in services if s.authority == index] for index in range(len(authorities))}
    for index, authority in enumerate(authorities):
        share = weights[index] / total
        authority.weight = share * INCOMING_SHARE
        for service in per_authority[index]:
            service.weight = share * (1 - INCOMING_SHARE) / len(per_authority[index])


async def _insert_organisations(
    connection: asyncpg.Connection, authorities: list[Organisation], services: list[Organisation], now: datetime
) -> None:
    rows = [
        (a.id, f"Central authority of {country} (bench)", "central_authority", country, tz, None, now)
        for a, (country, tz) in zip(authorities, COUNTRIES, strict=True)
    ]
    for number, service in enumerate(services):
        country, tz = COUNTRIES[service.authority]
        rows.append(
            (service.id, f"Prosecution service {number:03d} {country} (bench)", "prosecution_service", country, tz,
             authorities[service.authority].id, now)
        )  # fmt: skip
    columns = ("id", "name", "kind", "country", "timezone", "central_authority_id", "created_at")
    await connection.copy_records_to_table("organisations", records=rows, columns=columns)


async def _insert_users(
    connection: asyncpg.Connection,
    authorities: list[Organisation],
    services: list[Organisation],
    supervisors: list[Member],
    now: datetime,
) -> None:
    users, tokens = [], []

    def add(member: Member, organisation: Organisation, email: str, roles: list[str]) -> None:
        users.append((member.id, organisation.id, email, email.split("@")[0], roles, None, True, now))
        tokens.append((uuid.uuid4(), member.id, token_digest(member.token), "bench", now, now + TOKEN_LIFETIME, None))

    for number, authority in enumerate(authorities):
        for k, officer in enumerate(authority.members):
            add(officer, authority, f"officer{k}@ca{number:02d}.bench.mla", ["central_authority"])
        add(supervisors[number], authority, f"supervisor@ca{number:02d}.bench.mla", ["central_authority", "supervisor"])
    for number, service in enumerate(services):
        for k, prosecutor in enumerate(service.members):
            add(prosecutor, service, f"prosecutor{k}@ps{number:03d}.bench.mla", ["prosecutor"])
    columns = ("id", "organisation_id", "email", "name", "roles", "password_hash", "active", "created_at")
    await connection.copy_records_to_table("users", records=users, columns=columns)
    columns = ("id", "user_id", "token_hash", "label", "created_at", "expires_at", "revoked_at")
    await connection.copy_records_to_table("api_tokens", records=tokens, columns=columns)


async def _insert_counterparties(
    connection: asyncpg.Connection, now: datetime
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    rows, states, providers = [], [], []
    for country, tz in COUNTRIES:
        states.append(uuid.uuid4())
        rows.append((states[-1], "state", f"State {country} (bench)", country, tz, f"Ministry of Justice {country}",
                     "24/7 point of contact", ["en"], None, [], "{}", None, False, country in ("US", "JP"))
                    )  # fmt: skip
    for number in range(PROVIDERS):
        providers.append(uuid.uuid4())
        retention = json.dumps({"subscriber": 365, "traffic": 90, "content": 180})
        us = number % 3
        rows.append((providers[-1], "provider", f"Provider {number:02d} (bench)", "US" if us else "IE",
                     "America/New_York" if us else "Europe/Dublin", None,
                     None, [], f"https://lers{number}.example.com", ["preservation", "production", "subscriber_info"],
                     retention, "Emergency requests answered around the clock.", False, False))  # fmt: skip
    columns = (
        "id", "kind", "name", "country", "timezone", "central_authority", "contact_24_7", "languages", "portal_url",
        "request_types", "retention_days", "emergency_policy", "death_penalty", "requires_dual_criminality",
    )  # fmt: skip
    await connection.copy_records_to_table(
        "counterparties", records=[(*row, now) for row in rows], columns=(*columns, "created_at")
    )
    return states, providers


async def _insert_cases(
    connection: asyncpg.Connection, owners: list[Organisation], requests: int, now: datetime, rng: random.Random
) -> None:
    offences = json.dumps([{"description": "Illegal system interference", "max_penalty_years": 5}])
    rows = []
    for organisation in owners:
        for _ in range(max(3, round(requests * organisation.weight / REQUESTS_PER_CASE))):
            case_id = uuid.uuid4()
            organisation.cases.append(case_id)
            opened = now - timedelta(days=rng.uniform(30, 900))
            rows.append((case_id, organisation.id, f"CASE-{case_id.hex[:12]}", "Ransomware attack on a hospital",
                         "Investigation into the encryption of the hospital's systems.", offences,
                         organisation.members[0].id, opened, 1))  # fmt: skip
    columns = (
        "id", "organisation_id", "reference", "title", "summary", "offences", "created_by", "created_at", "version",
    )  # fmt: skip
    await connection.copy_records_to_table("cases", records=rows, columns=columns)
