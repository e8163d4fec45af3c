"""Debian's nginx, configured by the nginx block of docs/deploy.md, in front of two
`teletherapy serve` processes: a call across them through the proxy, WebSocket upgrade
included, and the client's own address from X-Forwarded-For (TRUSTED_PROXY_HOPS=1).

The configuration is the docs' own: the test reads the one ```nginx block of
docs/deploy.md and replaces only what a test must (the `substituted` call of the
`deployment` fixture: ports, loopback, a test certificate; each text replaced must occur
exactly once), so the documented file cannot drift from the tested one. The main file
around it (events, http, logs, temporary paths) is the test's, as Debian's nginx.conf is
in production.

Placement: nginx's round robin (one worker) sends consecutive connections to the two
processes in turn, and the two peers open their WebSockets one right after the other,
so they land on different processes; nginx's access log (client address -> upstream)
shows it, and the test checks it rather than assuming it.
"""

import asyncio
import os
import pwd
import re
import signal
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, select

from teletherapy.models import AuditEvent
from teletherapy.models.login import LoginThrottle
from teletherapy.tls import self_signed

from .conftest import ROOT, LiveServer, free_port, make_world, upgrade_database
from .peers import wait_for
from .test_aiortc_call import call, check_media_and_data
from .test_two_processes import postgres_database  # noqa: F401  # a fresh database

pytestmark = pytest.mark.e2e
NGINX = "/usr/sbin/nginx"
DOC = ROOT / "docs" / "deploy.md"
REDIS_URL = "redis://127.0.0.1:6379/12"
# Loopback addresses the test's clients leave from, so nginx's log and the app's rows can
# tell them from nginx itself (127.0.0.1, the address every request reaches the app from).
CLIENT, THERAPIST, STRANGER = "127.0.0.2", "127.0.0.3", "127.0.0.4"
FORGED = "203.0.113.7"  # an X-Forwarded-For entry a client makes up


def docs_nginx_block() -> str:
    blocks = re.findall(r"^```nginx\n(.*?)^```", DOC.read_text(), re.M | re.S)
    assert len(blocks) == 1, "docs/deploy.md should hold one ```nginx block"
    return str(blocks[0])


def substituted(config: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert config.count(old) == 1, f"docs/deploy.md's nginx block: {old!r}"
        config = config.replace(old, new)
    return config


@dataclass
class Nginx:
    """nginx as the test's user, with a prefix, logs and temporary files in ``home``."""

    home: Path
    block: str
    http_port: int
    https_port: int
    proc: subprocess.Popen[bytes] | None = None

    def main_config(self) -> str:
        home = self.home
        # Run as root (CI containers), nginx would hand its workers to `nobody`, who
        # cannot enter the test's private temporary folder.
        user = (
            f"user {pwd.getpwuid(os.getuid()).pw_name};\n" if os.getuid() == 0 else ""
        )
        temp = "".join(
            f"  {kind}_temp_path {home / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return (
            f"{user}"
            # one worker: one round robin, so consecutive connections alternate
            "worker_processes 1;\n"
            f"pid {home / 'nginx.pid'};\n"
            f"error_log {home / 'error.log'} info;\n"
            "events {}\n"
            "http {\n"
            f"{temp}"
            "  log_format upstreams '$remote_addr $status \"$request\" $upstream_addr';\n"
            f"  access_log {home / 'access.log'} upstreams;\n"
            f"{self.block}"
            "}\n"
        )

    def start(self) -> "Nginx":
        if not Path(NGINX).exists():
            pytest.fail(
                "nginx is missing: make test installs it (scripts/ensure-nginx)"
            )
        conf = self.home / "nginx.conf"
        conf.write_text(self.main_config())
        command = [NGINX, "-e", str(self.home / "error.log"), "-p", str(self.home)]
        command += ["-c", str(conf), "-g", "daemon off;"]
        self.proc = subprocess.Popen(command, start_new_session=True)
        deadline = time.monotonic() + 10
        while not self._listening():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"nginx did not start: {self.log('error.log')[-3000:]}")
            time.sleep(0.05)
        return self

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
        except OSError:
            return False
        return True

    def log(self, name: str) -> str:
        path = self.home / name
        return path.read_text(errors="replace") if path.exists() else ""

    def websockets(self) -> dict[str, str]:
        """The upstream (process) each client address's WebSocket reached (101 lines:
        nginx writes them when the socket closes)."""
        found = re.findall(
            r'^(\S+) 101 "GET /socket\.io/\S* HTTP/1\.1" (\S+)$',
            self.log("access.log"),
            re.M,
        )
        return dict(found)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # fast shutdown
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


@dataclass
class Deployment:
    nginx: Nginx
    a: LiveServer
    b: LiveServer
    cert: Path
    database_url: str

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.nginx.https_port}"


@pytest.fixture
def deployment(postgres_database: str, tmp_path: Path) -> Iterator[Deployment]:  # noqa: F811
    https_port, http_port = free_port(), free_port()
    name = f"tt-nginx-{uuid.uuid4().hex[:8]}"
    env = {
        "TELETHERAPY_TRUSTED_PROXY_HOPS": "1",
        "TELETHERAPY_ALLOWED_ORIGINS": f'["https://127.0.0.1:{https_port}"]',
        "TELETHERAPY_SIGNALING_WEBSOCKET_ONLY": "true",
        "TELETHERAPY_SIGNALING_CHANNEL": name,
        "TELETHERAPY_SIGNALING_PRESENCE_PREFIX": f"{name}:",
    }
    a = LiveServer(database_url=postgres_database, redis_url=REDIS_URL, extra_env=env)
    b = LiveServer(database_url=postgres_database, redis_url=REDIS_URL, extra_env=env)
    cert, key = self_signed(["127.0.0.1"], tmp_path / "tls")
    # the only differences from docs/deploy.md: ports, loopback, a test certificate
    block = substituted(
        docs_nginx_block(),
        {
            "server 127.0.0.1:5001;": f"server 127.0.0.1:{a.port};",
            "server 127.0.0.1:5002;": f"server 127.0.0.1:{b.port};",
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "/etc/letsencrypt/live/clinic.example/fullchain.pem": str(cert),
            "/etc/letsencrypt/live/clinic.example/privkey.pem": str(key),
        },
    )
    nginx = Nginx(tmp_path / "nginx", block, http_port, https_port)
    nginx.home.mkdir()
    try:
        upgrade_database(a)
        a.start(tmp_path)
        b.start(tmp_path)
        nginx.start()
        yield Deployment(nginx, a, b, cert, postgres_database)
    finally:
        nginx.stop()
        a.stop()
        b.stop()
        r = redis.Redis.from_url(REDIS_URL)
        for key_name in r.scan_iter(f"{name}:*"):
            r.delete(key_name)
        r.close()


def trusting(cert: Path) -> ssl.SSLContext:
    """Verification that trusts the test's one self-signed certificate (as a browser
    told to trust it would): a certificate that is not a CA anchors its own chain only
    with partial chains allowed."""
    tls = ssl.create_default_context(cafile=str(cert))
    tls.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return tls


class FromAddress(HTTPAdapter):
    """requests leaving from one loopback address, trusting the test's certificate."""

    def __init__(self, address: str, tls: ssl.SSLContext) -> None:
        self.address, self.tls = address, tls
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(source_address=(self.address, 0), ssl_context=self.tls)
        super().init_poolmanager(*args, **kwargs)


def client_from(address: str, cert: Path) -> requests.Session:
    http = requests.Session()
    adapter = FromAddress(address, trusting(cert))
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


def rows(database_url: str, statement: Any) -> list[Any]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(statement))
    finally:
        engine.dispose()


def test_call_across_two_processes_through_nginx(deployment: Deployment) -> None:
    d = deployment
    world = make_world(d.a)
    stranger = client_from(STRANGER, d.cert)

    # plain HTTP through the proxy: a page, a static file, the socket.io client
    page = stranger.get(d.url + "/login", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    css = stranger.get(d.url + "/static/css/call.css", timeout=10)
    assert css.status_code == 200 and "text/css" in css.headers["Content-Type"]
    script = stranger.get(d.url + "/vendor/socket.io.esm.min.js", timeout=10)
    assert script.status_code == 200 and "function" in script.text
    redirect = stranger.get(
        f"http://127.0.0.1:{d.nginx.http_port}/login", allow_redirects=False, timeout=10
    )
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == "https://127.0.0.1/login"

    # a wrong password, with a made-up X-Forwarded-For: the app counts the address
    # nginx saw and appended, not nginx's own nor the forged one
    refused = stranger.post(
        d.url + "/api/v1/auth/token",
        json={"email": world.therapist["email"], "password": "not the password"},
        headers={"X-Forwarded-For": FORGED},
        timeout=10,
    )
    assert refused.status_code == 401
    failed = select(AuditEvent.ip).where(
        AuditEvent.action == "login.failed",
        AuditEvent.actor_id == world.therapist["id"],
    )
    assert rows(d.database_url, failed) == [STRANGER]
    assert rows(d.database_url, select(LoginThrottle.address)) == [STRANGER]

    # two peers through nginx: consecutive WebSockets reach the two processes in turn
    # (call() starts the client first); each trusts the test's certificate and leaves
    # from its own address, so nginx's access log tells which process each reached
    tls = trusting(d.cert)

    async def scenario() -> str:
        therapist, client = await call(
            d.url,
            d.url,
            world,
            therapist_options={"tls": tls, "local_addr": THERAPIST},
            client_options={"tls": tls, "local_addr": CLIENT},
        )
        try:
            await check_media_and_data(therapist, client)
            sent = await client.chat("through nginx")
            assert sent["ok"]
            await wait_for(lambda: any(n == "chat" for n, _ in therapist.events))
            got = [m["text"] for name, m in therapist.events if name == "chat"]
            assert got == ["through nginx"]
        finally:
            await therapist.close()
            await client.close()
        return therapist.session_id

    session_id = asyncio.run(scenario())

    deadline = time.monotonic() + 10
    while len(d.nginx.websockets()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    upstreams = d.nginx.websockets()
    assert set(upstreams) == {CLIENT, THERAPIST}, d.nginx.log("access.log")
    assert {upstreams[CLIENT], upstreams[THERAPIST]} == {
        f"127.0.0.1:{d.a.port}",
        f"127.0.0.1:{d.b.port}",
    }
    # the therapist's join made the session live: audited under its socket's address
    live = select(AuditEvent.ip).where(
        AuditEvent.action == "session.live", AuditEvent.target_id == session_id
    )
    assert rows(d.database_url, live) == [THERAPIST]
