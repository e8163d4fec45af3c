"""Start the real app (and baselines) in their own processes, as in production."""

from __future__ import annotations

import os
import secrets
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
from typing import IO, TYPE_CHECKING

import requests

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench password long enough"
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux /proc)."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def postgres_pids(database: str) -> list[int]:
    """PostgreSQL backends serving ``database`` (their command line names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if cmdline.startswith(b"postgres:") and f" {database} ".encode() in cmdline:
            found.append(int(entry.name))
    return found


def total_cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU seconds so far of each pid still alive."""
    out = {}
    for pid in pids:
        try:
            out[pid] = cpu_seconds(pid)
        except (OSError, IndexError):
            continue
    return out


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine so far (Linux /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


@dataclass
class App:
    """`teletherapy serve` on a fresh database (SQLite unless a URL is given)."""

    database_url: str = ""
    redis_url: str = ""
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

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
        self.log = self._open_log()
        self.proc = subprocess.Popen(
            cmd,
            env=self.environ(),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )
        wait_http(self.url + "/healthz", self.proc)
        return self

    def _open_log(self) -> IO[bytes]:
        """The server's stderr: a temporary file, or kept under BENCH_SERVER_LOG."""
        keep = os.environ.get("BENCH_SERVER_LOG")
        if keep:
            return open(f"{keep}.{self.port}", "w+b")  # closed in stop()
        return tempfile.TemporaryFile(prefix="tt-bench-server-")

    def tail(self, chars: int = 2000) -> str:
        """The end of the server's stderr, for a failure message."""
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.log is not None:
            self.log.close()
            self.log = None


class Postgres:
    """A throwaway database on the local PostgreSQL, dropped afterwards."""

    def __init__(self, prefix: str = "tt_bench") -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self._admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.url = (
            make_url(PG_ADMIN_URL)
            .set(database=self.name)
            .render_as_string(hide_password=False)
        )

    def __enter__(self) -> Postgres:
        from sqlalchemy import text

        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self

    def __exit__(self, *_exc: object) -> None:
        from sqlalchemy import text

        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


def _bench_app(database_url: str) -> Flask:
    os.environ.pop("TELETHERAPY_ENV", None)
    from teletherapy import create_app

    return create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench",
            "PSEUDONYM_KEY": "bench",
        }
    )


def prepare_database(
    database_url: str, dyads: int, modality: str = "video"
) -> list[dict[str, str]]:
    """Migrate and create `dyads` therapist–client pairs, each with a session and tokens.

    Runs in this (benchmark) process through the app's own services.
    """
    from teletherapy.config import Settings
    from teletherapy.extensions import db
    from teletherapy.models import User
    from teletherapy.services import accounts, audit, migrations, scheduling, tokens

    migrations.upgrade(database_url)
    app = _bench_app(database_url)
    out = []
    with app.app_context():
        for _ in range(dyads):
            people = [
                accounts.create_user(
                    db.session(),
                    email=f"{role}-{uuid.uuid4().hex[:10]}@bench.example",
                    name=role,
                    role=role,
                    password=PASSWORD,
                    actor_id=None,
                    hash_method=Settings.of(app.config).password_hash_method,
                    origin=audit.CLI,
                )
                for role in ("therapist", "client")
            ]
            therapist, client = (db.session.get_one(User, p.id) for p in people)
            accounts.add_to_caseload(
                db.session(), therapist, client, None, origin=audit.CLI
            )
            s = scheduling.schedule(
                db.session(),
                therapist,
                client_id=client.id,
                modality=modality,
                scheduled_start=datetime.now(UTC) + timedelta(minutes=5),
                duration_minutes=50,
                origin=audit.CLI,
            )
            out.append(
                {
                    "session_id": s.id,
                    "therapist_id": therapist.id,
                    "client_id": client.id,
                    "therapist_token": tokens.issue(
                        db.session(), therapist, 24, origin=audit.CLI
                    )[0],
                    "client_token": tokens.issue(
                        db.session(), client, 24, origin=audit.CLI
                    )[0],
                }
            )
    assert db.engine is not None  # the app context bound it
    db.engine.dispose()
    return out


def bulk_dyads(database_url: str, dyads: int) -> list[dict[str, str]]:
    """The same rows as :func:`prepare_database` for thousands of dyads, in bulk.

    One password hash is shared by every account (hashing is deliberately slow and
    the sockets authenticate with tokens); tokens are stored hashed exactly as
    ``tokens.issue`` stores them.
    """
    from sqlalchemy import create_engine, insert
    from werkzeug.security import generate_password_hash

    from teletherapy.models import ApiToken, CaseloadAssignment, TherapySession, User
    from teletherapy.services import migrations
    from teletherapy.services.tokens import _digest

    migrations.upgrade(database_url)
    now = datetime.now(UTC)
    password_hash = generate_password_hash(PASSWORD)
    users, caseload, sessions, tokens, out = [], [], [], [], []
    for _ in range(dyads):
        ids = {role: str(uuid.uuid4()) for role in ("therapist", "client")}
        row = {"session_id": str(uuid.uuid4())}
        for role, user_id in ids.items():
            users.append(
                {
                    "id": user_id,
                    "email": f"{role}-{user_id}@bench.example",
                    "display_name": role,
                    "role": role,
                    "password_hash": password_hash,
                }
            )
            token = secrets.token_urlsafe(32)
            tokens.append(
                {
                    "user_id": user_id,
                    "token_hash": _digest(token),
                    "expires_at": now + timedelta(hours=24),
                }
            )
            row[f"{role}_id"], row[f"{role}_token"] = user_id, token
        caseload.append({"therapist_id": ids["therapist"], "client_id": ids["client"]})
        sessions.append(
            {
                "id": row["session_id"],
                "therapist_id": ids["therapist"],
                "client_id": ids["client"],
                "modality": "video",
                "scheduled_start": now + timedelta(minutes=5),
                "duration_minutes": 50,
            }
        )
        out.append(row)
    engine = create_engine(database_url)
    with engine.begin() as conn:
        for model, rows in (
            (User, users),
            (CaseloadAssignment, caseload),
            (TherapySession, sessions),
            (ApiToken, tokens),
        ):
            conn.execute(insert(model), rows)
    engine.dispose()
    return out


@dataclass
class BareRelay:
    """A bare python-socketio relay with the same async mode: the baseline."""

    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

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
