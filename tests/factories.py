"""Factories for valid objects: organisations with one user per role, counterparties, cases, requests."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mla.clock import FixedClock
from mla.counterparties import service as counterparties
from mla.counterparties.schemas import CounterpartyCreate
from mla.enums import CounterpartyKind, OrganisationKind, Role
from mla.organisations import service as organisations
from mla.organisations.schemas import OrganisationCreate
from mla.users import service as users
from mla.users.schemas import UserCreate

STATEMENT = "The suspect used this account to distribute the material described in the case file."
# Emergency: an imminent risk to a person (Reg. 2023/1543 art 3(18)), not merely to evidence.
EMERGENCY = {
    "urgency": "emergency",
    "emergency_grounds": ["physical_integrity"],
    "emergency_justification": "A child is at immediate risk of sexual abuse.",
}
BILATERAL = "Treaty on Mutual Legal Assistance in Criminal Matters FR-DE of 1 March 2020, art 1 (example)"


@dataclass
class Member:
    id: uuid.UUID
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Org:
    id: uuid.UUID
    name: str
    members: dict[Role, Member] = field(default_factory=dict)

    def headers(self, role: Role = Role.PROSECUTOR) -> dict[str, str]:
        return self.members[role].headers


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class World:
    client: httpx.AsyncClient
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: FixedClock

    async def organisation(
        self,
        kind: OrganisationKind = OrganisationKind.PROSECUTION_SERVICE,
        *,
        country: str = "DE",
        timezone: str = "Europe/Berlin",
        central_authority: "Org | None" = None,
    ) -> Org:
        """An organisation with one user (and API token) per role."""
        async with self.sessionmaker() as session, session.begin():
            data = OrganisationCreate(
                name=unique("org"),
                kind=kind,
                country=country,
                timezone=timezone,
                central_authority_id=None if central_authority is None else central_authority.id,
            )
            organisation = await organisations.create_organisation(session, self.clock, None, data)
            org = Org(organisation.id, organisation.name)
            for role in Role:
                org.members[role] = await self._new_member(session, org, role)
        return org

    async def member(self, org: Org, *roles: Role) -> Member:
        """One more user of `org`, holding all of `roles` (e.g. prosecutor and central authority)."""
        async with self.sessionmaker() as session, session.begin():
            return await self._new_member(session, org, *roles)

    async def _new_member(self, session: AsyncSession, org: Org, *roles: Role) -> Member:
        name = "+".join(role.value for role in roles)
        email = f"{unique(name)}@example.org"
        user = await users.create_user(
            session,
            self.clock,
            None,
            UserCreate(email=email, name=f"{name} user", organisation_id=org.id, roles=list(roles)),
        )
        token = await users.create_api_token(session, self.clock, None, user, "test")
        return Member(user.id, email, token)

    async def counterparty(self, kind: CounterpartyKind = CounterpartyKind.PROVIDER, **values: Any) -> uuid.UUID:
        async with self.sessionmaker() as session, session.begin():
            data = CounterpartyCreate(kind=kind, name=unique(kind.value), country=values.pop("country", "US"), **values)
            return (await counterparties.create_counterparty(session, self.clock, None, data)).id

    async def case(
        self,
        org: Org,
        *,
        max_penalty_years: float = 5,
        offence: str = "Illegal system interference",
        role: Role = Role.PROSECUTOR,
    ) -> dict[str, Any]:
        body = {
            "reference": unique("CASE"),
            "title": "Ransomware attack on a hospital",
            "summary": "Investigation into the encryption of the hospital's systems.",
            "offences": [{"description": offence, "max_penalty_years": max_penalty_years}],
        }
        response = await self.client.post("/api/v1/cases", json=body, headers=org.headers(role))
        assert response.status_code == 201, response.text
        return response.json()

    async def request(
        self, org: Org, case: dict[str, Any], target_id: uuid.UUID, *, filer: Member | None = None, **overrides: Any
    ) -> dict[str, Any]:
        """Filed by `filer`, or else the organisation's prosecutor (outgoing) or officer (incoming)."""
        body = request_body(case["id"], target_id, self.clock.now(), **overrides)
        role = Role.CENTRAL_AUTHORITY if body["direction"] == "incoming" else Role.PROSECUTOR
        headers = org.headers(role) if filer is None else filer.headers
        response = await self.client.post("/api/v1/requests", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def linked_pair(self) -> tuple[Org, Org]:
        """A prosecution service and the central authority that reviews its requests."""
        authority = await self.organisation(OrganisationKind.CENTRAL_AUTHORITY)
        return await self.organisation(central_authority=authority), authority

    async def act(self, org: Org, role: Role, request: dict[str, Any], action: str, **fields: Any) -> dict[str, Any]:
        """Take a workflow action that must succeed; returns the request after it."""
        response = await self.client.post(
            f"/api/v1/requests/{request['id']}/actions/{action}",
            json={"version": request["version"], **fields},
            headers=org.headers(role),
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def transmitted(
        self, *, target_id: uuid.UUID | None = None, **overrides: Any
    ) -> tuple[Org, Org, dict[str, Any]]:
        """A request walked through review to `transmitted`: (prosecution, authority, request)."""
        prosecution, authority = await self.linked_pair()
        target_id = target_id or await self.counterparty()
        request = await self.request(prosecution, await self.case(prosecution), target_id, **overrides)
        return prosecution, authority, await self.walk_to_transmitted(prosecution, authority, request)

    async def walk_to_transmitted(self, prosecution: Org, authority: Org, draft: dict[str, Any]) -> dict[str, Any]:
        """Submit a draft, attest its checks, approve and transmit it; returns the request after."""
        request = await self.act(prosecution, Role.PROSECUTOR, draft, "submit")
        await self.attest_pending(authority, request)
        request = await self.act(authority, Role.CENTRAL_AUTHORITY, request, "approve")
        return await self.act(authority, Role.CENTRAL_AUTHORITY, request, "transmit")

    async def received(self, **overrides: Any) -> tuple[Org, dict[str, Any]]:
        """A central authority and an incoming MLA request it recorded from a foreign state (`received`).

        A second officer records it, so that the authority's usual officer may attest and accept it (four eyes).
        """
        authority = await self.organisation(OrganisationKind.CENTRAL_AUTHORITY)
        state = await self.counterparty(CounterpartyKind.STATE, country=overrides.pop("country", "FR"))
        case = await self.case(authority, role=Role.CENTRAL_AUTHORITY)
        values = {"direction": "incoming", "type": "mla", "instrument": "mlat", "treaty_reference": BILATERAL}
        recorder = await self.member(authority, Role.CENTRAL_AUTHORITY)
        return authority, await self.request(authority, case, state, filer=recorder, **(values | overrides))

    async def accepted(self, **overrides: Any) -> tuple[Org, dict[str, Any]]:
        """An incoming request whose checks were attested and which was accepted (`in_execution`)."""
        authority, request = await self.received(**overrides)
        await self.attest_pending(authority, request)
        return authority, await self.act(authority, Role.CENTRAL_AUTHORITY, request, "accept")

    async def attest_pending(
        self, authority: Org, request: dict[str, Any], outcome: str = "pass"
    ) -> list[dict[str, Any]]:
        """A central authority officer attests every check still waiting for an attestation."""
        base = f"/api/v1/requests/{request['id']}/checks"
        headers = authority.headers(Role.CENTRAL_AUTHORITY)
        checks = (await self.client.get(base, headers=headers)).json()["items"]
        for check in checks:
            if check["outcome"] == "needs_attestation":
                body = {"outcome": outcome, "reason": f"Checked the file: {check['code']} is satisfied."}
                response = await self.client.post(f"{base}/{check['code']}/attestation", json=body, headers=headers)
                assert response.status_code == 201, response.text
                checks = response.json()["items"]
        return checks


def request_body(case_id: str, target_id: uuid.UUID, now: datetime, **overrides: Any) -> dict[str, Any]:
    """A complete, valid production request to a provider under the EPOC regulation, ordered by a judge."""
    body: dict[str, Any] = {
        "case_id": case_id,
        "direction": "outgoing",
        "type": "production",
        "target_id": str(target_id),
        "instrument": "eu-epoc",
        "data_categories": ["subscriber", "content"],
        "identifiers": [{"kind": "email", "value": "suspect@example.com"}],
        "period_start": (now - timedelta(days=90)).isoformat(),
        "period_end": (now - timedelta(days=1)).isoformat(),
        "urgency": "routine",
        "issuing_judge_or_court": "Amtsgericht Tiergarten, investigating judge",
        "order_reference": "352 Gs 17/26",
        "facts": STATEMENT,
        "link_to_offence": STATEMENT,
        "necessity": STATEMENT,
        "proportionality": STATEMENT,
        # Confidential requests are hidden from officers who are not assigned (tests/test_confidentiality.py).
        "confidential": False,
        "language": "en",
    }
    body.update(overrides)
    return body
