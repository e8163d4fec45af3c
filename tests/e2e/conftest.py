"""A real server in its own process (gevent, as in production) for browsers and peers."""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

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


class WarmCli:
    """``teletherapy`` commands run by one ``python -m tests.e2e.seed`` process
    (tests/e2e/seed.py): the console script's own commands in the server's
    environment, without a Python and app start-up (about two seconds) for each."""

    def __init__(self, env: dict[str, str]) -> None:
        self.key = _settings(env)
        self._lock = threading.Lock()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.seed"],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        # also when its server is never stopped: at garbage collection or exit
        self._finalizer = weakref.finalize(self, _close_warm_cli, self.proc, self._log)

    def run(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        """The command's output; RuntimeError as from LiveServer.cli when it fails."""
        assert self.proc.stdin and self.proc.stdout
        with self._lock:
            try:
                self.proc.stdin.write(
                    json.dumps({"args": list(args), "stdin": stdin}) + "\n"
                )
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass  # it ended: reported below with its log
            ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
            line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.close()
            raise RuntimeError(
                f"teletherapy {' '.join(args)}: the seeding process gave no answer "
                f"(exit {self.proc.returncode}): {self._tail()}"
            )
        reply = json.loads(line)
        if reply["code"] != 0:
            raise RuntimeError(
                f"teletherapy {' '.join(args)} failed: {reply['stderr'][-2000:]}"
            )
        return str(reply["stdout"])

    def _tail(self) -> str:
        self._log.seek(0)
        return self._log.read()[-3000:].decode(errors="replace")

    def close(self) -> None:
        self._finalizer()


def _settings(env: dict[str, str]) -> dict[str, str]:
    """The environment a command sees, less what pytest changes for every test."""
    return {k: v for k, v in env.items() if k != "PYTEST_CURRENT_TEST"}


def _close_warm_cli(proc: subprocess.Popen[str], log: IO[bytes]) -> None:
    """End a seeding process: it leaves when its standard input closes."""
    try:
        if proc.stdin:
            proc.stdin.close()
    except BrokenPipeError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()
    log.close()


@dataclass
class LiveServer:
    """One `teletherapy serve` process; several may share a database and Redis."""

    database_url: str
    port: int = field(default_factory=free_port)
    redis_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _warm: WarmCli | None = field(default=None, init=False, repr=False, compare=False)

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

    def _warm_cli(self) -> WarmCli:
        """This server's warm command line (tests/e2e/seed.py), started on first use
        and again if the server's environment changed since or it ended."""
        env = self.env()
        warm = self._warm
        if warm is None or warm.key != _settings(env) or warm.proc.poll() is not None:
            if warm is not None:
                warm.close()
            self._warm = warm = WarmCli(env)
        return warm

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
        if self._warm is not None:
            self._warm.close()
            self._warm = None
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


def upgrade_database(server: LiveServer) -> None:
    """`teletherapy db upgrade` for ``server`` in the warm process that then seeds its
    users (make_user, make_world): one Python and app start-up instead of two."""
    server._warm_cli().run("db", "upgrade")


def make_user(server: LiveServer, role: str) -> dict[str, str]:
    """A new account made by `teletherapy users create` (run by the server's warm
    command line, tests/e2e/seed.py)."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.org"
    out = server._warm_cli().run(
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
    """A therapist and a client in one caseload, made with `teletherapy users create`
    and `caseload add` in one warm process, with their API tokens from the server."""
    therapist, client = make_user(server, "therapist"), make_user(server, "client")
    server._warm_cli().run(
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
    upgrade_database(server)
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
    upgrade_database(server)
    server.start(tmp)
    yield server
    server.stop()
