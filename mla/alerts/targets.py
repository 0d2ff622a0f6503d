"""Where a webhook may post: public addresses only, unless the installation allows a network.

An administrator chooses a webhook's URL and the worker posts to it from inside the network, so
an unchecked URL would let an administrator reach the loopback interface, the cloud metadata
service (169.254.169.254) or any internal host, and read the network's layout from the errors.

- **Refused addresses**: loopback, private, shared (100.64.0.0/10), link-local, multicast,
  unspecified and reserved ones, IPv4 and IPv6, including the IPv4 address an IPv6 one embeds
  (IPv4-mapped `::ffff:127.0.0.1`, IPv4-compatible `::127.0.0.1`, NAT64 `64:ff9b::/96`, 6to4
  `2002::/16`, Teredo).
- **Every spelling**: a host that ends in a number is read as browsers and the C resolver read it
  (WHATWG URL standard): `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` are all 127.0.0.1.
  `localhost` names (`localhost`, `*.localhost`, `localhost.localdomain`) are loopback.
- **Twice**: at creation for what the URL itself says (no DNS lookup in the API), and at every
  delivery after resolving the name: every address the name resolves to must be allowed, and the
  worker connects to one of those very addresses (`resolve_target`), so a DNS answer cannot
  change between the check and the connection.
- **Allowed networks** (`MLA_WEBHOOK_ALLOWED_NETWORKS`, CIDR, comma-separated) admit chosen
  private receivers, for on-premises installations and tests. An address in one of them, or
  embedding an IPv4 address in one of them, is allowed whatever its kind.
"""

import asyncio
import ipaddress
import socket
import urllib.parse
from collections.abc import Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK = (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1"))
_LOCALHOST_NAMES = frozenset({"localhost", "localhost.localdomain"})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class TargetRefused(Exception):
    """The target is not allowed; the message (for logs, never for the admin) says why."""


def literal_addresses(host: str) -> tuple[Address, ...] | None:
    """The addresses `host` names without DNS (an IP address in any spelling, or a `localhost`
    name); None for an ordinary name. Refuses a host that ends in a number but is no address."""
    name = host.strip("[]").lower().removesuffix(".")
    if is_localhost_name(name):
        return LOOPBACK
    try:
        return (ipaddress.IPv6Address(name),) if ":" in name else (ipaddress.IPv4Address(name),)
    except ValueError:
        pass
    if ":" in name or not _ends_in_a_number(name):
        return None
    return (_whatwg_ipv4(name),)


def is_localhost_name(host: str) -> bool:
    name = host.lower().removesuffix(".")
    return name in _LOCALHOST_NAMES or name.endswith(".localhost")


def _ends_in_a_number(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return (last.isascii() and last.isdigit()) or (
        last.startswith("0x") and all(c in "0123456789abcdef" for c in last[2:])
    )


def _whatwg_ipv4(name: str) -> ipaddress.IPv4Address:
    """The WHATWG IPv4 parser: 1 to 4 parts, each decimal, `0x` hex or `0`-prefixed octal; the
    last part fills the remaining bytes (`127.1` is 127.0.0.1)."""
    parts = name.split(".")
    try:
        numbers = [_ipv4_number(part) for part in parts]
    except ValueError:
        raise TargetRefused(f"{name!r} ends in a number but is not an IPv4 address") from None
    last_limit = 256 ** (5 - len(numbers))
    if len(numbers) > 4 or any(n > 255 for n in numbers[:-1]) or numbers[-1] >= last_limit:
        raise TargetRefused(f"{name!r} ends in a number but is not an IPv4 address")
    value = numbers[-1] + sum(n << (8 * (3 - i)) for i, n in enumerate(numbers[:-1]))
    return ipaddress.IPv4Address(value)


def _ipv4_number(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part[1:], 8)
    if not part.isdigit():
        raise ValueError(part)
    return int(part)


def embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour, *(address.teredo or ())) if a is not None]
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: Address) -> bool:
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def is_allowed(address: Address, allowed: Sequence[Network]) -> bool:
    """A public address (and public what it embeds), or one in an allowed network."""
    candidates = [address, *embedded_ipv4(address)]
    if any(candidate in network for candidate in candidates for network in allowed):
        return True
    return all(is_public(candidate) for candidate in candidates)


def check_addresses(addresses: Sequence[Address], allowed: Sequence[Network]) -> None:
    """Refuse unless every address is allowed: one refused answer taints the name."""
    refused = [str(address) for address in addresses if not is_allowed(address, allowed)]
    if refused:
        raise TargetRefused(f"not a public address: {', '.join(refused)}")


def check_url(url: str, allowed: Sequence[Network]) -> None:
    """At creation: refuse a URL whose host is itself a refused address (names are checked when sent)."""
    addresses = literal_addresses(urllib.parse.urlsplit(url).hostname or "")
    if addresses is not None:
        check_addresses(addresses, allowed)


async def resolve_target(host: str, port: int, allowed: Sequence[Network]) -> list[Address]:
    """At delivery: the addresses to connect to, in the resolver's order, every one of them allowed."""
    addresses = None if is_localhost_name(host) else literal_addresses(host)
    if addresses is None:  # a name, `localhost` too: what the resolver answers now is what counts
        try:
            answers = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise TargetRefused(f"the name does not resolve ({type(exc).__name__})") from exc
        addresses = tuple(dict.fromkeys(ipaddress.ip_address(answer[4][0]) for answer in answers))
    if not addresses:
        raise TargetRefused("the name resolves to no address")
    check_addresses(addresses, allowed)
    return list(addresses)


def parse_networks(text: str) -> tuple[Network, ...]:
    """`10.1.0.0/16, 127.0.0.1/32, fd00::/8` as networks; refuses a malformed one or host bits set."""
    return tuple(ipaddress.ip_network(item.strip()) for item in text.split(",") if item.strip())
