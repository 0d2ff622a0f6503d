"""Webhooks reach public addresses only: every internal address, in every spelling, is refused.

The address rules are pure functions (no network); registration is tried through the API, whose
test installation allows no private network. Delivery-time checks (after resolving the name) are
in test_delivery.py.
"""

import ipaddress

import httpx
import msgspec
import pytest
from sqlalchemy import select

from mla.alerts import targets
from mla.alerts.models import Webhook
from mla.alerts.webhooks import check_target
from mla.enums import Role
from mla.errors import Unprocessable
from mla.settings import load_settings
from tests.factories import Org, World

LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "127.0.0.1.",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0x7f.1",
    "0x7f.0x0.0x0.0x1",
    "0177.0.0.1",  # octal
    "0177.0.0.01",
    "127.1",
    "127.0.1",
]

REFUSED_ADDRESSES = [
    "127.0.0.1",  # loopback
    "0.0.0.0",  # unspecified
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # shared (carrier-grade NAT)
    "169.254.169.254",  # link-local: the cloud metadata service
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.1",  # documentation
    "::1",
    "::",
    "fe80::1",
    "fc00::1",  # unique local
    "fec0::1",  # site-local
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]

REFUSED_URLS = [
    *(f"http://{spelling}/hook" for spelling in LOOPBACK_SPELLINGS),
    *(f"https://[{address}]/hook" for address in REFUSED_ADDRESSES if ":" in address),
    *(f"https://{address}:8443/hook" for address in REFUSED_ADDRESSES if ":" not in address),
    "http://localhost/hook",
    "http://LOCALHOST.:8080/hook",
    "http://hooks.localhost/hook",
    "http://localhost.localdomain/hook",
    "http://[::ffff:7f00:1]/hook",
]

PUBLIC_URLS = [
    "https://alerts.example.org/mla",
    "https://8.8.8.8/hook",
    "http://[2606:4700:4700::1111]:8080/hook",
    "https://1.2.3.example/hook",  # a name, checked when sent
]


async def register(world: World, url: str) -> tuple[Org, httpx.Response]:
    org = await world.organisation()
    body = {"url": url, "secret": "s3cr3t-s3cr3t-s3cr3t", "organisation_id": str(org.id)}
    return org, await world.client.post("/api/v1/admin/webhooks", json=body, headers=org.headers(Role.ADMIN))


@pytest.mark.parametrize("spelling", LOOPBACK_SPELLINGS)
def test_every_spelling_of_a_loopback_address_is_read_as_the_resolver_reads_it(spelling: str) -> None:
    assert targets.literal_addresses(spelling) == (ipaddress.IPv4Address("127.0.0.1"),)


@pytest.mark.parametrize("host", ["08.0.0.1", "256.1", "1.2.3.4.5", "4294967296", "example.0x12g3"])
def test_a_host_ending_in_a_number_that_is_no_address_is_refused_or_a_name(host: str) -> None:
    if host.endswith("g3"):
        assert targets.literal_addresses(host) is None  # "0x12g3" is no number: an ordinary name
    else:
        with pytest.raises(targets.TargetRefused):
            targets.literal_addresses(host)


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_internal_addresses_are_refused(address: str) -> None:
    assert not targets.is_allowed(ipaddress.ip_address(address), ())


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2002:808:808::"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert targets.is_allowed(ipaddress.ip_address(address), ())


def test_allowed_networks_admit_chosen_private_receivers_and_only_them() -> None:
    allowed = targets.parse_networks("10.1.0.0/16, 127.0.0.0/8")

    for address in ("10.1.2.3", "127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.1.0.9"):
        assert targets.is_allowed(ipaddress.ip_address(address), allowed), address
    for address in ("10.2.0.1", "169.254.169.254", "::1"):
        assert not targets.is_allowed(ipaddress.ip_address(address), allowed), address
    check_target("http://0x7f.1/hook", allowed)
    with pytest.raises(Unprocessable):  # a localhost name may be ::1 as well as 127.0.0.1
        check_target("http://localhost:8080/hook", allowed)
    check_target("http://localhost:8080/hook", (*allowed, ipaddress.ip_network("::1/128")))


def test_one_refused_address_among_those_a_name_resolves_to_refuses_the_name() -> None:
    public, internal = ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.1")

    targets.check_addresses([public], ())
    with pytest.raises(targets.TargetRefused):
        targets.check_addresses([public, internal], ())


@pytest.mark.parametrize("networks", ["10.0.0.1/8", "not-a-network", "10.0.0.0/33"])
def test_a_malformed_allowed_network_is_refused_at_start_up(networks: str) -> None:
    with pytest.raises(msgspec.ValidationError):
        load_settings({"MLA_WEBHOOK_ALLOWED_NETWORKS": networks})


def test_the_refusal_names_the_url_field() -> None:
    with pytest.raises(Unprocessable) as refused:
        check_target("http://169.254.169.254/latest/meta-data/", ())

    assert refused.value.extra["errors"][0]["field"] == "url"


@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_registering_a_webhook_to_an_internal_address_is_refused(world: World, url: str) -> None:
    org, response = await register(world, url)

    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["url"]
    async with world.sessionmaker() as session:
        assert await session.scalar(select(Webhook).where(Webhook.organisation_id == org.id)) is None


@pytest.mark.parametrize("url", PUBLIC_URLS)
async def test_registering_a_webhook_to_a_public_address_or_a_name_is_accepted(world: World, url: str) -> None:
    _, response = await register(world, url)

    assert response.status_code == 201, response.text
