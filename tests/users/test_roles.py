"""Who may hold and grant which roles: the pure rules behind every user administration route."""

import pytest

from mla.enums import Role
from mla.errors import Forbidden, Unprocessable
from mla.users import roles

CASE_ROLES = [Role.PROSECUTOR, Role.CENTRAL_AUTHORITY, Role.SUPERVISOR, Role.AUDITOR]


@pytest.mark.parametrize("other", [*CASE_ROLES, Role.ADMIN])
def test_platform_admin_is_held_alone(other: Role) -> None:
    with pytest.raises(Unprocessable) as refused:
        roles.check_combination([Role.PLATFORM_ADMIN, other])

    assert refused.value.extra["errors"][0]["field"] == "roles"
    assert other.value in refused.value.detail


@pytest.mark.parametrize(
    "held", [[Role.PLATFORM_ADMIN], [Role.ADMIN, Role.PROSECUTOR], CASE_ROLES, [Role.SUPERVISOR, Role.ADMIN]]
)
def test_every_other_combination_is_allowed(held: list[Role]) -> None:
    roles.check_combination(held)


@pytest.mark.parametrize("role", [*CASE_ROLES, Role.ADMIN])
def test_an_organisation_admin_grants_every_role_but_platform_admin(role: Role) -> None:
    roles.check_admin_change([Role.PROSECUTOR], [role])
    with pytest.raises(Forbidden):
        roles.check_admin_change([Role.PROSECUTOR], [Role.PLATFORM_ADMIN])


def test_an_organisation_admin_cannot_touch_a_platform_admin_living_in_its_organisation() -> None:
    with pytest.raises(Forbidden, match="operator"):
        roles.check_admin_change([Role.PLATFORM_ADMIN])


def test_a_platform_admin_creates_only_a_first_admin() -> None:
    roles.check_first_admin([Role.ADMIN], organisation_has_admin=False)
    with pytest.raises(Forbidden, match="already has an active admin"):
        roles.check_first_admin([Role.ADMIN], organisation_has_admin=True)
    for other in CASE_ROLES:
        with pytest.raises(Forbidden, match="first admin"):
            roles.check_first_admin([other], organisation_has_admin=False)
        with pytest.raises(Forbidden, match="first admin"):
            roles.check_first_admin([Role.ADMIN, other], organisation_has_admin=False)
