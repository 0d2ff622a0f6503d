"""Demo data for `mla up`: two authorities, their users with API tokens, states, providers, a case.

Seeded once: `mla up` writes the tokens to the data folder (readable by the owner only) after the
commit, so that a later `mla up` can print them again; the database keeps only their hashes.
"""

import json
import os
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.counterparties import service as counterparties
from mla.counterparties.schemas import CounterpartyCreate
from mla.enums import CounterpartyKind, DataCategory, OrganisationKind, RequestType, Role
from mla.organisations import service as organisations
from mla.organisations.schemas import OrganisationCreate
from mla.users import service as users
from mla.users.schemas import UserCreate

DEMO_PASSWORD = "demo-password"
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


def tokens_file(data_dir: Path) -> Path:
    return data_dir / "demo-tokens.json"


async def seed_demo(session: AsyncSession, clock: Clock) -> dict[str, str] | None:
    """Create the demo world unless it exists; returns {e-mail: API token} when it was created."""
    if await organisations.find_by_name(session, CENTRAL_AUTHORITY.name) is not None:
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
    tokens = {}
    for email, name, organisation, roles in DEMO_USERS:
        data = UserCreate(
            email=email, name=name, organisation_id=organisation_ids[organisation], roles=roles, password=DEMO_PASSWORD
        )
        user = await users.create_user(session, clock, None, data)
        tokens[email] = await users.create_api_token(session, clock, None, user, "demo")
    for counterparty in COUNTERPARTIES:
        await counterparties.create_counterparty(session, clock, None, counterparty)
    return tokens


def load_tokens(data_dir: Path) -> dict[str, str]:
    path = tokens_file(data_dir)
    return json.loads(path.read_text()) if path.exists() else {}


def save_tokens(data_dir: Path, tokens: dict[str, str]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = tokens_file(data_dir)
    path.write_text(json.dumps(tokens, indent=2))
    os.chmod(path, 0o600)
