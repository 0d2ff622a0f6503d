"""Demo data for `mla up`: two authorities, their users with API tokens, states, providers, a case.

Seeded once, and only where asked for (`mla up` on its own embedded database, or `--demo`). Every
demo user gets a random password and an API token; they are printed once, to the terminal, and
written after the commit to a file in the data folder readable by the owner only, so a later
`mla up` can say where they are. The database keeps only their hashes.
"""

import os
import secrets
from pathlib import Path

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mla.audit import service as audit
from mla.clock import Clock
from mla.counterparties import service as counterparties
from mla.counterparties.schemas import CounterpartyCreate
from mla.enums import CounterpartyKind, DataCategory, OrganisationKind, RequestType, Role
from mla.organisations import repository as organisation_records
from mla.organisations import service as organisations
from mla.organisations.schemas import OrganisationCreate
from mla.users import repository as user_records
from mla.users import service as users
from mla.users.credentials import verify_password
from mla.users.schemas import UserCreate

# What every demo user accepted before passwords were random: taken away wherever it still works.
RETIRED_PASSWORD = "demo-password"
CENTRAL_AUTHORITY = OrganisationCreate(
    name="Federal Office of Justice (demo)",
    kind=OrganisationKind.CENTRAL_AUTHORITY,
    country="DE",
    timezone="Europe/Berlin",
)
PROSECUTION = "Public Prosecutor's Office Berlin (demo)"
FOREIGN_PROSECUTION = OrganisationCreate(
    name="Parquet de Paris (demo)", kind=OrganisationKind.PROSECUTION_SERVICE, country="FR", timezone="Europe/Paris"
)
DEMO_USERS = (
    ("prosecutor@demo.mla", "Petra Prosecutor", PROSECUTION, [Role.PROSECUTOR]),
    ("officer@demo.mla", "Carl Central", CENTRAL_AUTHORITY.name, [Role.CENTRAL_AUTHORITY]),
    ("supervisor@demo.mla", "Sabine Supervisor", CENTRAL_AUTHORITY.name, [Role.SUPERVISOR, Role.CENTRAL_AUTHORITY]),
    ("auditor@demo.mla", "Anton Auditor", PROSECUTION, [Role.AUDITOR]),
    ("admin@demo.mla", "Ada Admin", CENTRAL_AUTHORITY.name, [Role.ADMIN]),
    # Lives in the authority that hosts the installation; its role keeps it out of the cases there.
    ("platform@demo.mla", "Pia Platform", CENTRAL_AUTHORITY.name, [Role.PLATFORM_ADMIN]),
    ("procureur@demo.mla", "Paul Procureur", FOREIGN_PROSECUTION.name, [Role.PROSECUTOR]),
)
ALL_TYPES = list(RequestType)
COUNTERPARTIES = (
    CounterpartyCreate(
        kind=CounterpartyKind.STATE,
        name="United States of America",
        country="US",
        central_authority="U.S. Department of Justice, Office of International Affairs",
        contact_24_7="CCIPS 24/7 network point of contact",
        languages=["en"],
        death_penalty=True,
        requires_dual_criminality=True,
    ),
    CounterpartyCreate(
        kind=CounterpartyKind.STATE,
        name="Ireland",
        country="IE",
        central_authority="Department of Justice, Mutual Assistance Division",
        contact_24_7="An Garda Síochána 24/7 point of contact",
        languages=["en", "ga"],
    ),
    CounterpartyCreate(
        kind=CounterpartyKind.PROVIDER,
        name="Example Mail LLC",
        country="US",
        portal_url="https://lers.example.com",
        request_types=ALL_TYPES,
        retention_days={DataCategory.SUBSCRIBER: 365, DataCategory.IP_IDENTIFICATION: 180, DataCategory.TRAFFIC: 90},
        emergency_policy="Discloses without delay where there is a danger of death or serious physical injury "
        "(18 U.S.C. § 2702(b)(8)); requests through the law-enforcement portal.",
    ),
    CounterpartyCreate(
        kind=CounterpartyKind.PROVIDER,
        name="Example Social Ireland Ltd",
        country="IE",
        portal_url="https://records.example.ie",
        request_types=ALL_TYPES,
        retention_days={DataCategory.SUBSCRIBER: 730, DataCategory.TRAFFIC: 180, DataCategory.CONTENT: 90},
        emergency_policy="Emergency requests answered around the clock through the portal.",
    ),
)


class DemoLogin(msgspec.Struct):
    password: str
    token: str


def credentials_file(data_dir: Path) -> Path:
    return data_dir / "demo-credentials.json"


async def seed_demo(session: AsyncSession, clock: Clock) -> dict[str, DemoLogin] | None:
    """Create the demo world unless it exists; returns {e-mail: password and API token} when it was created."""
    if await organisation_records.organisation_named(session, CENTRAL_AUTHORITY.name) is not None:
        return None
    authority = await organisations.create_organisation(session, clock, None, CENTRAL_AUTHORITY)
    prosecution = OrganisationCreate(
        name=PROSECUTION,
        kind=OrganisationKind.PROSECUTION_SERVICE,
        country="DE",
        timezone="Europe/Berlin",
        central_authority_id=authority.id,
    )
    organisation_ids = {authority.name: authority.id}
    for data in (prosecution, FOREIGN_PROSECUTION):
        organisation_ids[data.name] = (await organisations.create_organisation(session, clock, None, data)).id
    logins = {}
    for email, name, organisation, roles in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        data = UserCreate(
            email=email, name=name, organisation_id=organisation_ids[organisation], roles=roles, password=password
        )
        user = await users.create_user(session, clock, None, data)
        logins[email] = DemoLogin(password, await users.create_api_token(session, clock, None, user, "demo"))
    for counterparty in COUNTERPARTIES:
        await counterparties.create_counterparty(session, clock, None, counterparty)
    return logins


async def retire_fixed_password(session: AsyncSession, clock: Clock, seeded_here: set[str]) -> list[str]:
    """Remove the password of every demo user that still accepts the old fixed one; their e-mails.

    `mla up` used to seed them with it even into a real database. The user keeps its API tokens
    (printed only to whoever seeded it); an administrator disables the user if it should not exist.
    Users in `seeded_here` (this data folder's credentials) got random passwords: not checked, so
    that a start does not pay six argon2 verifications.
    """
    retired = []
    for email, *_ in DEMO_USERS:
        user = None if email in seeded_here else await user_records.find_by_email(session, email)
        if user is None or not await verify_password(user.password_hash, RETIRED_PASSWORD):
            continue
        user.password_hash = None
        await audit.record(
            session,
            clock,
            None,
            audit.AuditEntry(
                action="retire_demo_password",
                chain=audit.admin_chain(),
                organisation_id=user.organisation_id,
                changes={"user_id": str(user.id)},
                reason="the fixed demo password was public",
            ),
        )
        retired.append(email)
    return retired


def load_credentials(data_dir: Path) -> dict[str, DemoLogin] | None:
    path = credentials_file(data_dir)
    return msgspec.json.decode(path.read_bytes(), type=dict[str, DemoLogin]) if path.exists() else None


def save_credentials(data_dir: Path, logins: dict[str, DemoLogin]) -> None:
    """Write the file readable and writable by the owner only, from its first byte on."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = credentials_file(data_dir)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "wb") as file:
        file.write(msgspec.json.format(msgspec.json.encode(logins)))
