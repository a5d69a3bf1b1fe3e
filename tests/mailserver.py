"""A real SMTP server on loopback for tests (aiosmtpd), with scripted failures and outages::

    with MailServer() as smtp:
        app.config["SMTP_URL"] = smtp.url
        ...                                   # code under test sends mail
        (message,) = smtp.wait_for(1)
        assert message.to == ["worker@example.org"]

``fail(code, times, at="DATA"|"RCPT")`` answers the next messages with an SMTP error;
``stop()`` takes the server down (connections refused) and ``start()`` brings it back on the same
port. With ``auth=(user, password)`` it offers AUTH (without TLS, loopback only) and accepts
only those credentials; with ``tls=<server SSLContext>`` it speaks implicit TLS (``smtps://``).
"""
from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Self

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["MailServer", "ReceivedMail", "free_port"]


def free_port() -> int:
    """A free loopback port. ``Controller(port=0)`` fails (its start-up check connects to the port
    it was given), so bind port 0 ourselves, read the port, and close the socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ReceivedMail:
    """One accepted message: the envelope and the exact bytes the server received."""

    mail_from: str
    to: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        """The decoded plain-text body (whatever transfer encoding was used)."""
        return self.message.get_body(("plain",)).get_content()


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        failure = self.server._take_failure("RCPT")
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        failure = self.server._take_failure("DATA")
        if failure:
            return failure
        received = ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        with self.server._arrived:
            self.server.received.append(received)
            self.server._arrived.notify_all()
        return "250 OK"


class MailServer:
    """An aiosmtpd server on 127.0.0.1 that records what it accepts."""

    def __init__(self, auth: tuple[str, str] | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.port = free_port()
        self.auth = auth
        self.tls = tls  # implicit TLS (smtps) with this server context
        self.received: list[ReceivedMail] = []
        self.logins: list[str] = []
        self._failures: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """The ``COACH_SMTP_URL`` for this server (with the credentials when it wants AUTH)."""
        userinfo = f"{self.auth[0]}:{self.auth[1]}@" if self.auth else ""
        return f"{'smtps' if self.tls else 'smtp'}://{userinfo}127.0.0.1:{self.port}"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (self.auth is not None and isinstance(auth_data, LoginPassword)
              and (auth_data.login.decode(), auth_data.password.decode()) == self.auth)
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    def start(self) -> Self:
        """Start (or restart after ``stop()``) on the same port."""
        kwargs = {}
        if self.auth:
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False, "auth_required": True}
        if self.tls:
            kwargs["ssl_context"] = self.tls
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)
        for _ in range(50):  # a just-stopped listener may hold the port for a moment
            try:
                self._controller.start()
                return self
            except OSError:
                time.sleep(0.05)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Take the server down: new connections are refused until ``start()``."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def fail(self, reply: str, times: int = 1, at: str = "DATA") -> None:
        """Answer the next ``times`` messages with ``reply`` (e.g. ``"451 4.3.0 Try later"``) at
        the ``DATA`` or ``RCPT`` step."""
        with self._lock:
            self._failures.extend([(at, reply)] * times)

    def _take_failure(self, step: str) -> str | None:
        with self._lock:
            for index, (at, reply) in enumerate(self._failures):
                if at == step:
                    del self._failures[index]
                    return reply
        return None

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """Block until ``count`` messages were accepted; return a snapshot."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"waited {timeout}s for {count} emails, got {len(self.received)}")
                self._arrived.wait(left)
            return list(self.received)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


# --- fixtures (import them into a test module: ``from tests.mailserver import mail_app, smtp``) ----

@pytest.fixture
def smtp():
    """A fresh loopback SMTP server per test."""
    with MailServer() as server:
        yield server


@pytest.fixture
def mail_app(app, smtp):
    """The app mailing through this test's SMTP server."""
    app.config.update(SMTP_URL=smtp.url, MAIL_FROM="Attune <attune@example.org>", SMTP_TIMEOUT=5)
    return app
