"""Sample a server process with py-spy (when installed) and summarize where time goes.

py-spy reads the target's memory from outside (it needs ptrace rights over the server,
which a process started by the bench has), so the server runs unmodified. Without py-spy
the benches run as usual and report no profile.

    python -m bench._profile RAW_FILE [N]   # summarize a saved py-spy raw file
"""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter, or on PATH."""
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


class Profiler:
    """``py-spy record`` on ``pid`` for ``seconds``; ``summary()`` once it ended."""

    def __init__(self, pid: int, seconds: float, rate: int = 250) -> None:
        self.raw = Path(tempfile.mkstemp(prefix="tt-bench-pyspy-", suffix=".txt")[1])
        exe = py_spy()
        self.proc: subprocess.Popen[bytes] | None = None
        if exe is None:
            return
        cmd = [exe, "record", "--pid", str(pid), "--duration", str(int(seconds))]
        cmd += ["--rate", str(rate), "--format", "raw", "--nonblocking"]
        cmd += ["--output", str(self.raw)]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def summary(self, top: int = 15) -> dict[str, Any] | None:
        """Top functions by own and by inclusive samples; ``None`` without py-spy."""
        if self.proc is None:
            return None
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
        try:
            return summarize(self.raw.read_text(), top)
        finally:
            self.raw.unlink(missing_ok=True)


# leaf frame's package → what it is; the first match wins, so specific paths come first
CATEGORIES = (
    ("gevent/hub.py", "gevent hub: idle wait and greenlet switches"),
    ("gevent/select.py", "gevent hub: idle wait and greenlet switches"),
    ("psycopg", "PostgreSQL driver (psycopg)"),
    ("sqlalchemy", "SQLAlchemy (ORM, pool)"),
    ("redis", "Redis client"),
    ("wsproto", "WebSocket and HTTP I/O"),
    ("simple_websocket", "WebSocket and HTTP I/O"),
    ("gevent/", "WebSocket and HTTP I/O"),
    ("socketio", "Socket.IO / Engine.IO protocol"),
    ("engineio", "Socket.IO / Engine.IO protocol"),
    ("json", "JSON encode/decode"),
    ("pydantic", "validation (pydantic)"),
    ("signaling/", "signaling (our adapter)"),
    ("teletherapy/", "teletherapy (policy, services)"),
    ("flask", "Flask / Werkzeug"),
    ("werkzeug", "Flask / Werkzeug"),
    ("itsdangerous", "Flask / Werkzeug"),
)
OURS = ("signaling/", "teletherapy/")
# pass-through ancestors of every request's stack, not work of their own
ANCESTORS = ("NoDelayMiddleware.__call__",)


def category(name: str) -> str:
    """What a (leaf) frame belongs to, from its file path."""
    where = name.rpartition(" (")[2]
    for needle, label in CATEGORIES:
        if needle in where:
            return label
    return "other (stdlib, uuid, datetime, …)"


def _name(frame: str) -> str:
    """``func (path/file.py:12)`` → ``func (pkg/file.py)``."""
    func, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    where = where.split("site-packages/")[-1].split(str(Path.cwd()) + "/")[-1]
    return f"{func} ({where})"


def summarize(raw: str, top: int = 15) -> dict[str, Any]:
    """Aggregate py-spy's collapsed stacks (``a;b;c count`` lines)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    by_category: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [
            _name(f)
            for f in stack.split(";")
            if not f.startswith(("process ", "thread "))
        ]
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        by_category[category(frames[-1])] += n
        for name in set(frames):
            inclusive[name] += n

    def share(counter: collections.Counter[str]) -> list[list[Any]]:
        return [[k, round(100 * v / total, 1)] for k, v in counter.most_common(top)]

    ours = collections.Counter(
        {
            k: v
            for k, v in inclusive.items()
            if k.rpartition(" (")[2].startswith(OURS) and not k.startswith(ANCESTORS)
        }
    )
    return {
        "samples": total,
        "own_by_category_pct": share(by_category),
        "own_pct": share(own),
        "our_code_inclusive_pct": share(ours),
    }


def print_summary(summary: dict[str, Any] | None, title: str) -> None:
    """A short table of the top entries."""
    if not summary:
        print(f"{title}: no profile (off, or py-spy not installed)")
        return
    print(f"{title}: {summary['samples']} samples; own time by component")
    for name, pct in summary["own_by_category_pct"][:10]:
        print(f"  {pct:5.1f}%  {name}")
    print("  our code, inclusive:")
    for name, pct in summary["our_code_inclusive_pct"][:6]:
        print(f"  {pct:5.1f}%  {name}")


if __name__ == "__main__":
    text = Path(sys.argv[1]).read_text()
    result = summarize(text, int(sys.argv[2]) if len(sys.argv) > 2 else 25)
    print(f"samples {result['samples']}")
    for key in ("own_by_category_pct", "own_pct", "our_code_inclusive_pct"):
        print(f"--- {key}")
        for name, pct in result[key]:
            print(f"{pct:6.1f}%  {name}")
