"""Signing in to the desk as a person would: the login form, its cookie, and the page's CSRF token."""

import re
import uuid
from dataclasses import dataclass

import httpx

from mla.enums import Role
from mla.users import service as users
from mla.users.schemas import UserCreate
from tests.factories import Org, World, unique

PASSWORD = "correct horse battery staple"
_CSRF_FIELD = re.compile(r'name="_csrf" value="([^"]+)"')


@dataclass
class DeskUser:
    id: uuid.UUID
    email: str
    name: str


async def desk_user(world: World, org: Org, *roles: Role) -> DeskUser:
    """A user holding `roles`, with a password (the factories' users only have API tokens)."""
    email = f"{unique(roles[0].value)}@example.org"
    name = f"{roles[0].value.replace('_', ' ').title()} {unique('')[1:6]}"
    async with world.sessionmaker() as session, session.begin():
        data = UserCreate(email=email, name=name, organisation_id=org.id, roles=list(roles), password=PASSWORD)
        user = await users.create_user(session, world.clock, None, data)
    return DeskUser(user.id, email, name)


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF_FIELD.search(page.text)
    assert found, f"no CSRF field on {page.request.url}"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/desk/login")
    return await client.post(
        "/desk/login", data={"_csrf": csrf_of(form), "email": email, "password": password, "next": "/desk/"}
    )
