"""The webhook POST itself: the request as sent, the status as read, TLS verified for the URL's name."""

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mla.alerts.webhook_post import NoAnswer, Post, Unreachable, post, status_of
from tests.alerts.support import free_port

REQUEST = Post("localhost:8443", "/hooks/mla?channel=ops", {"Content-Type": "application/json"}, b'{"a": 1}')


@pytest.mark.parametrize(
    ("line", "status"),
    [(b"HTTP/1.1 204 No Content\r\n", 204), (b"HTTP/1.0 500 Oops\r\n", 500), (b"HTTP/1.1 200\r\n", 200)],
)
def test_the_status_is_read_from_the_status_line(line: bytes, status: int) -> None:
    assert status_of(line) == status


@pytest.mark.parametrize("line", [b"", b"220 smtp.example.org ESMTP\r\n", b"HTTP/2 200\r\n", b"HTTP/1.1 2000 x\r\n"])
def test_anything_but_an_http_1_status_line_is_no_answer(line: bytes) -> None:
    with pytest.raises(NoAnswer):
        status_of(line)


def test_the_request_names_the_host_and_target_with_its_length() -> None:
    assert REQUEST.encoded() == (
        b"POST /hooks/mla?channel=ops HTTP/1.1\r\nHost: localhost:8443\r\nContent-Length: 8\r\n"
        b'Content-Type: application/json\r\n\r\n{"a": 1}'
    )


async def test_nothing_listening_is_unreachable() -> None:
    with pytest.raises(Unreachable):
        await post("127.0.0.1", free_port(), None, "localhost", REQUEST)


# --------------------------------------------------------------------------- TLS


class TlsReceiver:
    """An HTTPS endpoint on 127.0.0.1 with a certificate for `localhost` from a CA of its own."""

    def __init__(self, directory: Path) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
        now = datetime.datetime.now(datetime.UTC)
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256())
        )
        (directory / "cert.pem").write_bytes(self.ca.public_bytes(serialization.Encoding.PEM))
        (directory / "key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
        self.received: list[bytes] = []
        self.server_names: list[str | None] = []
        self.context.sni_callback = lambda connection, server_name, context: self.server_names.append(server_name)
        self.port = 0
        self._server: asyncio.Server | None = None

    def trusting_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        context.load_verify_locations(cadata=self.ca.public_bytes(serialization.Encoding.PEM).decode())
        return context

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            self.received.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def tls_receiver(tmp_path: Path) -> AsyncIterator[TlsReceiver]:
    receiver = TlsReceiver(tmp_path)
    await receiver.start()
    yield receiver
    await receiver.stop()


async def test_over_tls_the_certificate_is_checked_for_the_name_sent_as_sni(tls_receiver: TlsReceiver) -> None:
    status = await post("127.0.0.1", tls_receiver.port, tls_receiver.trusting_context(), "localhost", REQUEST)

    assert status == 202
    assert tls_receiver.server_names == ["localhost"]
    assert tls_receiver.received[0].startswith(b"POST /hooks/mla?channel=ops HTTP/1.1\r\nHost: localhost:8443\r\n")


async def test_a_certificate_for_another_name_or_from_an_unknown_authority_is_refused(
    tls_receiver: TlsReceiver,
) -> None:
    with pytest.raises(Unreachable):
        await post("127.0.0.1", tls_receiver.port, tls_receiver.trusting_context(), "alerts.example.org", REQUEST)
    with pytest.raises(Unreachable):  # the worker's own trust store does not know the test CA
        await post("127.0.0.1", tls_receiver.port, httpx.create_ssl_context(), "localhost", REQUEST)
    assert tls_receiver.received == []
