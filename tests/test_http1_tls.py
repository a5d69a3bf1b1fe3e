"""The push sender's HTTP/1.1 client over TLS, as every real push service is reached: certificates
are verified against the system's trust store and the endpoint's host name, and a kept-alive TLS
connection carries the next push. The certificates are made here; ``SSL_CERT_FILE`` points the
client's default trust at the test's own authority, as an operator's CA bundle would."""
from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from coach.services.delivery.http1 import Client


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject: str, issuer: x509.Name, issuer_key, key, *, ca: bool, dns: str | None = None):
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def authority(tmp_path, monkeypatch):
    """A certificate authority the client trusts, and a function giving a server context for a name."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Attune test CA", _name("Attune test CA"), ca_key, ca_key, ca=True)
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))

    def server_context(dns: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = _certificate(dns, ca.subject, ca_key, key, ca=False, dns=dns)
        (tmp_path / "leaf.pem").write_bytes(
            leaf.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tmp_path / "leaf.pem")
        return context

    return server_context


def _push_twice(context: ssl.SSLContext):
    """Serve TLS on localhost; POST two pushes through one Client; return answers (or the error)
    and what the server received."""
    seen = {"connections": 0, "requests": []}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen["connections"] += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length")))
                seen["requests"].append(head + await reader.readexactly(length))
                writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        writer.close()

    async def scenario():
        server = await asyncio.start_server(handle, "localhost", 0, ssl=context)
        port = server.sockets[0].getsockname()[1]
        client = Client(timeout=5)
        try:
            answers = []
            for n in range(2):
                answers.append(await client.post(f"https://localhost:{port}/push/{n}",
                                                 {"TTL": "3600"}, b"secret body"))
            return answers, port
        except OSError as error:
            return error, port
        finally:
            client.close()
            server.close()
            await server.wait_closed()

    result, port = asyncio.run(scenario())
    return result, port, seen


def test_a_push_goes_over_verified_tls_and_the_connection_is_kept(authority):
    answers, port, seen = _push_twice(authority("localhost"))

    assert [answer.status for answer in answers] == [201, 201]
    assert seen["connections"] == 1  # the second push rode the kept-alive TLS connection
    assert [request.split(b" ")[1] for request in seen["requests"]] == [b"/push/0", b"/push/1"]
    assert all(f"Host: localhost:{port}".encode() in request and request.endswith(b"secret body")
               for request in seen["requests"])


def test_a_certificate_for_another_name_is_refused_before_anything_is_sent(authority):
    error, _port, seen = _push_twice(authority("push.example"))

    assert isinstance(error, ssl.SSLCertVerificationError)  # an OSError: the sender retries later
    assert seen["requests"] == []
