"""Start the real app (and baselines) in their own processes, as in production."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench password long enough"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


@dataclass
class App:
    """`teletherapy serve` on a fresh database (SQLite unless a URL is given)."""

    database_url: str = ""
    redis_url: str = ""
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None  # type: ignore[type-arg]

    def __post_init__(self) -> None:
        if not self.database_url:
            folder = tempfile.mkdtemp(prefix="tt-bench-")
            self.database_url = f"sqlite:///{folder}/bench.sqlite"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environ(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TELETHERAPY_")}
        env.update(
            TELETHERAPY_ENV="testing",
            TELETHERAPY_ASYNC_MODE="gevent",
            TELETHERAPY_DATABASE_URL=self.database_url,
            TELETHERAPY_REDIS_URL=self.redis_url,
            TELETHERAPY_SECRET_KEY="bench",
            TELETHERAPY_PSEUDONYM_KEY="bench",
            TELETHERAPY_AUTH_RATE_LIMIT="100000 per minute",
            HOST="127.0.0.1",
            PORT=str(self.port),
        )
        env.update(self.env)
        return env

    def start(self) -> App:
        cmd = [sys.executable, "-m", "teletherapy", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            cmd,
            env=self.environ(),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_http(self.url + "/healthz", self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)


def prepare_database(
    database_url: str, dyads: int, modality: str = "video"
) -> list[dict[str, str]]:
    """Migrate and create `dyads` therapist–client pairs, each with a session and tokens.

    Runs in this (benchmark) process through the app's own services.
    """
    os.environ.pop("TELETHERAPY_ENV", None)
    from teletherapy import create_app
    from teletherapy.extensions import db
    from teletherapy.models import User
    from teletherapy.services import accounts, migrations, scheduling, tokens

    migrations.upgrade(database_url)
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench",
            "PSEUDONYM_KEY": "bench",
        }
    )
    out = []
    with app.app_context():
        for _ in range(dyads):
            people = [
                accounts.create_user(
                    db.session,
                    email=f"{role}-{uuid.uuid4().hex[:10]}@bench.example",
                    name=role,
                    role=role,
                    password=PASSWORD,
                    actor_id=None,
                )
                for role in ("therapist", "client")
            ]
            therapist, client = (db.session.get(User, p.id) for p in people)
            accounts.add_to_caseload(db.session, therapist, client, None)
            s = scheduling.schedule(
                db.session,
                therapist,
                client_id=client.id,
                modality=modality,
                scheduled_start=datetime.now(UTC) + timedelta(minutes=5),
                duration_minutes=50,
            )
            out.append(
                {
                    "session_id": s.id,
                    "therapist_id": therapist.id,
                    "client_id": client.id,
                    "therapist_token": tokens.issue(db.session, therapist, 24)[0],
                    "client_token": tokens.issue(db.session, client, 24)[0],
                }
            )
    db.engine.dispose()
    return out


@dataclass
class BareRelay:
    """A bare python-socketio relay with the same async mode: the baseline."""

    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None  # type: ignore[type-arg]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BareRelay:
        cmd = [sys.executable, "-m", "bench.bare_relay", str(self.port)]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_http(self.url + "/socket.io/?EIO=4&transport=polling", self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
