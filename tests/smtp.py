"""A real SMTP server in the test process (aiosmtpd), never a mock of smtplib.

``smtp_server`` (fixture in tests/conftest.py) starts one on a free loopback
port; ``make_app(SMTP_URL=server.url)`` sends to it, and ``server.messages``
holds what arrived, parsed. ``server.wait_for(n)`` waits for background sends.
"""

import email
import email.policy
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    """One mail as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.is_multipart():
                return str(part.get_content())
        raise AssertionError(f"no {content_type} part in {self.subject!r}")

    @property
    def text(self) -> str:
        return self.part("text/plain")

    @property
    def html(self) -> str:
        return self.part("text/html")

    def attachment(self, filename_suffix: str) -> bytes:
        for part in self.message.walk():
            name = part.get_filename() or ""
            if name.endswith(filename_suffix):
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return payload
        raise AssertionError(f"no *{filename_suffix} attachment in {self.subject!r}")


class _Handler:
    def __init__(self, store: "SmtpServer") -> None:
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.store.refuse:
            return "451 4.3.0 try again later (test server told to refuse)"
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        assert isinstance(message, EmailMessage)
        with self.store.lock:
            self.store.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message)
            )
        return "250 OK"


@dataclass
class SmtpServer:
    """A running aiosmtpd server; ``url`` is what TELETHERAPY_SMTP_URL would be."""

    url: str
    port: int
    controller: Controller
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refuse: bool = False  # answer 451 to every mail (a server in trouble)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(
            f"expected {count} mail(s) within {timeout} s, got {len(self.messages)}"
        )

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [m for m in self.messages if address in m.rcpt_tos]

    def stop(self) -> None:
        self.controller.stop()


def start_smtp(
    *,
    tls: str = "plain",
    cert: tuple[Path, Path] | None = None,
    credentials: tuple[str, str] | None = None,
) -> SmtpServer:
    """Start a server: ``tls`` "plain", "starttls" (needs ``cert``) or "tls"
    (implicit TLS, SMTPS; needs ``cert``); ``credentials`` requires a login."""
    port = free_port()
    store = SmtpServer(url="", port=port, controller=None)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    context = None
    if cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert[0]), str(cert[1]))
        context.check_hostname = False  # a server does not check client names
        context.verify_mode = ssl.CERT_NONE  # and asks for no client certificate
    if tls == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    if credentials:

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and (
                    data.login.decode(),
                    data.password.decode(),
                )
                == credentials
            )
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticate, auth_required=True)
        # aiosmtpd sees implicit TLS (SMTPS) as no TLS; that connection is TLS anyway
        kwargs["auth_require_tls"] = tls == "starttls"
    controller = Controller(
        _Handler(store),
        hostname="127.0.0.1",
        port=port,
        ssl_context=context if tls == "tls" else None,
        server_hostname="localhost",
        ready_timeout=10,
        **kwargs,
    )
    controller.start()
    scheme = {"plain": "smtp", "starttls": "smtp+starttls", "tls": "smtps"}[tls]
    login = f"{credentials[0]}:{credentials[1]}@" if credentials else ""
    host = "localhost" if cert else "127.0.0.1"
    store.controller = controller
    store.url = f"{scheme}://{login}{host}:{port}"
    return store
