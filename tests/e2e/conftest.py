"""A real server in its own process (gevent, as in production) for browsers and peers."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "teletherapy"]
PASSWORD = "e2e password that is long"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """One `teletherapy serve` process; several may share a database and Redis."""

    database_url: str
    port: int = field(default_factory=free_port)
    redis_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TELETHERAPY_")}
        env.update(
            TELETHERAPY_ENV="testing",
            TELETHERAPY_ASYNC_MODE="gevent",
            TELETHERAPY_DATABASE_URL=self.database_url,
            TELETHERAPY_SECRET_KEY="e2e-secret",
            TELETHERAPY_PSEUDONYM_KEY="e2e-pseudonym",
            TELETHERAPY_REDIS_URL=self.redis_url,
            HOST="127.0.0.1",
            PORT=str(self.port),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, stdin: str | None = None) -> str:
        out = subprocess.run(
            [*CLI, *args],
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            timeout=120,
        )
        if out.returncode != 0:
            raise RuntimeError(
                f"teletherapy {' '.join(args)} failed: {out.stderr[-2000:]}"
            )
        return out.stdout

    def serve_args(self) -> list[str]:
        return ["serve", "--port", str(self.port)]

    def command(self) -> list[str]:
        """The server's command line (a subclass may run it elsewhere, e.g. in a
        network namespace)."""
        return [*CLI, *self.serve_args()]

    def start(self, log_dir: Path) -> "LiveServer":
        self.log_path = log_dir / f"server-{self.port}.log"
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                self.command(),
                env=self.env(),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited: {self.log_path.read_text()[-3000:]}"
                )
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("server did not answer /healthz within 30 s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None

    def kill(self) -> None:
        """Abrupt death (kill -9), as in a crash."""
        self.stop(signal.SIGKILL)

    def token(self, email: str) -> str:
        r = requests.post(
            self.url + "/api/v1/auth/token",
            json={"email": email, "password": PASSWORD},
            timeout=10,
        )
        r.raise_for_status()
        return str(r.json()["token"])


@dataclass
class World:
    """Users of one test: a therapist and a client in one caseload."""

    server: LiveServer
    therapist: dict[str, str]
    client: dict[str, str]

    def schedule(self, modality: str = "video") -> dict:  # type: ignore[type-arg]
        start = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        r = requests.post(
            self.server.url + "/api/v1/sessions",
            json={
                "client_id": self.client["id"],
                "modality": modality,
                "scheduled_start": start,
                "duration_minutes": 50,
            },
            headers={"Authorization": f"Bearer {self.therapist['token']}"},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]


def make_user(server: LiveServer, role: str) -> dict[str, str]:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.org"
    out = server.cli(
        "users",
        "create",
        "--role",
        role,
        "--email",
        email,
        "--name",
        f"E2E {role.title()}",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    return {"id": out.strip().splitlines()[-1], "email": email, "password": PASSWORD}


def make_world(server: LiveServer) -> World:
    therapist, client = make_user(server, "therapist"), make_user(server, "client")
    server.cli(
        "caseload",
        "add",
        "--therapist",
        therapist["email"],
        "--client",
        client["email"],
    )
    therapist["token"] = server.token(therapist["email"])
    client["token"] = server.token(client["email"])
    return World(server, therapist, client)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live")
    server = LiveServer(database_url=f"sqlite:///{tmp}/e2e.sqlite")
    server.cli("db", "upgrade")
    server.start(tmp)
    yield server
    server.stop()


@pytest.fixture
def world(live_server: LiveServer) -> World:
    return make_world(live_server)


@pytest.fixture(scope="module")
def playwright():  # type: ignore[no-untyped-def]
    """One Playwright driver per module (imported here: .browser imports this file)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):  # type: ignore[no-untyped-def]
    """Debian's Chromium with fake media, shared by the module's tests."""
    from .browser import launch

    b = launch(playwright)
    yield b
    b.close()


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server in the test process (tests/smtp.py) for a module's live server."""
    from tests.smtp import start_smtp

    server = start_smtp()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mail_server(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[LiveServer]:
    """A live server whose mail goes to ``smtp``, sent in the background as in
    production, with links under its own address."""
    tmp = tmp_path_factory.mktemp("mail")
    server = LiveServer(database_url=f"sqlite:///{tmp}/e2e.sqlite")
    server.extra_env = {
        "TELETHERAPY_SMTP_URL": smtp.url,
        "TELETHERAPY_PUBLIC_URL": server.url,
        "TELETHERAPY_MAIL_IN_BACKGROUND": "true",
    }
    server.cli("db", "upgrade")
    server.start(tmp)
    yield server
    server.stop()
