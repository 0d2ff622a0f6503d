"""One webhook POST: a fresh connection to a checked address, the request out, the status line back.

httpx cost about 1 ms of CPU a POST (its pool, anyio and h11 layers), so a worker sent at most a
thousand webhooks a second; this costs a tenth of that. Nothing more is needed: a connection is
never reused (one checked for one name serves no other), no redirect is followed, and only the
status decides (2xx: delivered), so the answer's headers and body are never read. TLS verifies the
certificate for the URL's name (sent as SNI), not for the address connected to.
"""

import asyncio
import ssl
from dataclasses import dataclass

MAX_STATUS_LINE = 1_024


class NoAnswer(Exception):
    """The receiver gave no valid HTTP status; the message is for the log."""


class Unreachable(NoAnswer):
    """No connection (nothing listening, TLS handshake refused): the name's next address may answer."""


@dataclass(frozen=True, slots=True)
class Post:
    """The request: `host` as the Host header gives it, `target` the path and query."""

    host: str
    target: str
    headers: dict[str, str]
    body: bytes

    def encoded(self) -> bytes:
        lines = [f"POST {self.target or '/'} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(self.body)}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


async def post(address: str, port: int, tls: ssl.SSLContext | None, name: str, request: Post) -> int:
    """POST `request` to `address`, over TLS for `name` when `tls` is given; returns the answer's status."""
    try:
        reader, writer = await asyncio.open_connection(
            address, port, ssl=tls, server_hostname=name if tls else None, limit=MAX_STATUS_LINE
        )
    except OSError as exc:  # ssl.SSLError included
        raise Unreachable(type(exc).__name__) from exc
    try:
        writer.write(request.encoded())
        await writer.drain()
        line = await reader.readline()
    except (OSError, ValueError) as exc:  # ValueError: a status line longer than the limit
        raise NoAnswer(type(exc).__name__) from exc
    finally:
        writer.close()
    return status_of(line)


def status_of(line: bytes) -> int:
    """The status of `HTTP/1.x NNN reason`; refuses anything else."""
    version, _, rest = line.partition(b" ")
    code, after = rest[:3], rest[3:4]
    if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit() or after not in (b" ", b"\r", b""):
        raise NoAnswer("not an HTTP/1 status line")
    return int(code)
