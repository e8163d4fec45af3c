"""Golden snapshot: every GET page and API answer on the demo data, normalised.

Builds the app on a fresh SQLite file (testing config), seeds the demo with the
``demo`` command under a frozen clock and seeded UUIDs, signs in as each demo role
and records what every GET route answers. Only stable interfaces are used
(create_app, the test client and CLI runner, services.migrations.upgrade), so the
same code runs on older commits to produce the reference.

    python -m tests.golden.snapshot --write   # regenerate tests/golden/data/
    python -m tests.golden.snapshot           # compare, print the differences

What is still random after the frozen clock and the seeded UUIDs is normalised:
UUIDs become ``<id-N>`` in order of first appearance, CSRF tokens ``<csrf>``; a
carriage return is written as the two characters ``\\r`` (CSV rows end in CRLF).
Pseudonyms are HMACs of the (seeded) ids with a fixed key, so they are kept as
they are: a change in how they are derived is a change in behaviour. PNG plots are
skipped (binary); SVG plots are kept (matplotlib's ``svg.hashsalt`` is fixed here so
that its clip-path ids are the same on every run).
"""

import argparse
import difflib
import hashlib
import json
import random
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import time_machine

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)  # a Monday morning
UUID_SEED = 20261126
DYADS, SESSIONS = 6, 8
ROLES = ("therapist", "client", "researcher", "admin")
SESSIONS_PER_ROLE = 3  # session-specific routes are recorded for the first few

UUID_RE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)
CSRF_RES = (
    re.compile(r'(name="csrf_token" value=")[^"]*(")'),
    re.compile(r'(<meta name="csrf-token" content=")[^"]*(")'),
    re.compile(r'("csrf_token": ")[^"]*(")'),
)
FILTERS = ("", "?modality=video", "?modality=chat")
STATIC_PAGES = (
    "/",
    "/therapist",
    "/client",
    "/researcher",
    "/settings",
    "/consent",
    "/admin/",
    "/admin/audit",
    "/admin/audit.csv",
    "/sessions/waiting",
    "/sessions/ice-servers",
    "/sessions/socket-origin",
    "/research/",
    "/research/?modality=video",
    "/research/?modality=nonsense",
    "/research/codebook",
    "/research/export.csv",
    "/research/export.csv?shape=long",
    "/research/export.csv?shape=wide",
)
STATIC_API = (
    "/api/v1/me",
    "/api/v1/me/consent",
    "/api/v1/sessions",
    "/api/v1/sessions?limit=5",
    "/api/v1/ratings/pending",
    "/api/v1/research/codebook",
    "/api/v1/research/pairs",
    "/api/v1/research/pairs?limit=5",
    *(f"/api/v1/research/summary{f}" for f in FILTERS),
    *(
        f"/api/v1/research/export.csv?shape={shape}{f.replace('?', '&')}"
        for shape in ("long", "wide")
        for f in FILTERS[:2]
    ),
)
PLOT_KINDS = ("scatter", "bland_altman", "trajectories", "modality")


class Normaliser:
    """Replaces what a run cannot reproduce; ids are numbered in order of appearance."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        text = UUID_RE.sub(self._id, text)
        for pattern in CSRF_RES:
            text = pattern.sub(r"\1<csrf>\2", text)
        return text

    def _id(self, match: re.Match[str]) -> str:
        key = match.group(0).lower()
        if key not in self.ids:
            self.ids[key] = f"<id-{len(self.ids) + 1}>"
        return self.ids[key]


@contextmanager
def _deterministic() -> Iterator[None]:
    """Frozen clock, seeded uuid4, fixed SVG hash salt."""
    import matplotlib

    rng = random.Random(UUID_SEED)

    def uuid4() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    with (
        time_machine.travel(NOW, tick=False),
        mock.patch("uuid.uuid4", uuid4),
        matplotlib.rc_context({"svg.hashsalt": "golden"}),
    ):
        yield


def _app(tmp: Path) -> Any:
    from teletherapy import create_app
    from teletherapy.services import migrations

    url = f"sqlite:///{tmp / 'golden.sqlite'}"
    migrations.upgrade(url)
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": url,
            "SECRET_KEY": "golden-secret",
            "PSEUDONYM_KEY": "golden-pseudonym-key",
            "WTF_CSRF_ENABLED": False,
            "ALLOWED_ORIGINS": ["http://localhost"],
        }
    )
    app.instance_path = str(tmp / "instance")
    return app


def _passwords(app: Any) -> dict[str, tuple[str, str]]:
    result = app.test_cli_runner().invoke(
        args=["demo", "--dyads", str(DYADS), "--sessions", str(SESSIONS)]
    )
    assert result.exit_code == 0, result.output
    creds = Path(app.instance_path) / "demo-credentials.txt"
    found = {}
    for line in creds.read_text().splitlines():
        role, email, password = line.split()
        found[role] = (email, password)
    return found


# A decimal with more digits than a result can promise across machines: the last
# bits of a float depend on the CPU's vector width (summation order in numpy and
# BLAS), so 0.06741998624632417 on one machine is ...418 on another.
_LONG_DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d{11,}(?:[eE][-+]?\d+)?(?![\w.])")


def _round_floats(text: str) -> str:
    """Every decimal of 12+ significant digits, written with 10: differences in the
    last bits are noise, a change in the 10th digit is a change in behaviour."""
    return _LONG_DECIMAL.sub(lambda m: repr(float(f"{float(m.group()):.10g}")), text)


def _render(response: Any) -> str:
    """Status, content type and body; JSON pretty-printed (key order kept) with a
    digest of the served bytes (long decimals rounded, see _round_floats), so a
    change in layout alone still shows."""
    kind = response.mimetype
    head = f"status: {response.status_code}\ncontent-type: {response.content_type}\n"
    if kind in ("image/png",):
        return head + f"body: <{len(response.data)} bytes, not compared>\n"
    body = response.get_data(as_text=True).replace("\r", "\\r")  # CR kept, visibly
    body = _round_floats(body)
    if kind == "application/json":
        digest = hashlib.sha256(body.encode()).hexdigest()[:16]
        pretty = json.dumps(json.loads(body), indent=1, ensure_ascii=False)
        return head + f"served-bytes-sha256: {digest}\n\n{pretty}\n"
    return head + "\n" + body + ("" if body.endswith("\n") else "\n")


def _name(role: str, path: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", path.strip("/")) or "root"
    return f"{role}/{slug}.txt"


class Recorder:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.norm = Normaliser()
        self.files: dict[str, str] = {}

    def post(self, client: Any, role: str, path: str, bearer: Any, body: Any) -> Any:
        response = client.post(path, json=body, headers=bearer)
        shown = self.norm(path)
        name = _name(role, "POST " + shown)
        if name in self.files:  # the same path posted again
            name = name.replace(".txt", f".{len(self.files)}.txt")
        self.files[name] = f"POST {shown}\n" + self.norm(_render(response))
        return response

    def schedule(self, email: str, password: str) -> None:
        """The therapist adds four sessions with the demo client through the API: one
        upcoming, one due now (a chat), one live in person, one ended (so both sides
        have a rating pending). Online sessions start only when both join a call."""
        client = self.app.test_client()
        bearer = _bearer(client, email, password)
        sessions = client.get("/api/v1/sessions", headers=bearer).get_json()
        client_id = _items(sessions)[-1]["client_id"]
        ids = []
        plan = (
            (timedelta(days=1), "video"),
            (timedelta(0), "chat"),
            (timedelta(0), "in_person"),
            (timedelta(hours=-2), "in_person"),
        )
        for offset, modality in plan:
            body = {
                "client_id": client_id,
                "modality": modality,
                "scheduled_start": (NOW + offset).isoformat(),
                "duration_minutes": 50,
            }
            r = self.post(client, "therapist", "/api/v1/sessions", bearer, body)
            ids.append(r.get_json()["id"])
        for path in (f"{ids[2]}/start", f"{ids[3]}/start", f"{ids[3]}/end"):
            self.post(client, "therapist", f"/api/v1/sessions/{path}", bearer, {})

    def get(self, client: Any, role: str, path: str, headers: Any = None) -> Any:
        api = path.startswith("/api/") and headers is not None
        response = client.get(path, headers=headers if api else None)
        # The path may hold real ids: normalise it with the same numbering.
        shown = self.norm(path)
        self.files[_name(role, shown)] = f"GET {shown}\n" + self.norm(_render(response))
        return response

    def role(self, role: str, email: str, password: str) -> None:
        client = self.app.test_client()
        r = client.post("/login", data={"email": email, "password": password})
        assert r.status_code == 302, (role, r.status_code)
        bearer = _bearer(client, email, password)
        for path in STATIC_PAGES + STATIC_API:
            self.get(client, role, path, bearer)
        for kind in PLOT_KINDS:
            self.get(client, role, f"/research/plots/{kind}.svg")
            self.get(client, role, f"/research/plots/{kind}.png")
        for session_id in self._session_ids(client, bearer):
            for path in (
                f"/sessions/{session_id}",
                f"/sessions/{session_id}/rating",
                f"/api/v1/sessions/{session_id}",
                f"/api/v1/sessions/{session_id}/messages",
                f"/api/v1/sessions/{session_id}/rating",
            ):
                self.get(client, role, path, bearer)

    def _session_ids(self, client: Any, bearer: dict[str, str]) -> list[str]:
        r = client.get("/api/v1/sessions", headers=bearer)
        if r.status_code != 200:
            return []
        items = _items(r.get_json())
        return [item["id"] for item in items[:SESSIONS_PER_ROLE] + items[-1:]]


def _bearer(client: Any, email: str, password: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert r.status_code == 200, (email, r.status_code)
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _items(body: Any) -> list[dict[str, Any]]:
    return list(body.get("items", body) if isinstance(body, dict) else body)


def build() -> dict[str, str]:
    """Relative file name -> normalised text, for the whole snapshot."""
    tmp = Path(tempfile.mkdtemp(prefix="golden-"))
    try:
        with _deterministic():
            app = _app(tmp)
            try:
                people = _passwords(app)
                rec = Recorder(app)
                rec.schedule(*people["therapist"])
                anon = app.test_client()
                for path in ("/login", "/healthz", "/api/v1/openapi.json", "/"):
                    rec.get(anon, "anonymous", path)
                for role in ROLES:
                    rec.role(role, *people[role])
                return rec.files
            finally:
                _dispose(app)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _dispose(app: Any) -> None:
    from teletherapy.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def stored() -> dict[str, str]:
    return {
        str(p.relative_to(DATA)): p.read_text(encoding="utf-8")
        for p in sorted(DATA.rglob("*.txt"))
    }


def write(files: dict[str, str]) -> None:
    if DATA.exists():
        shutil.rmtree(DATA)
    for name, text in files.items():
        path = DATA / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """Names of the files that differ, are missing or are new."""
    names = sorted(set(expected) | set(actual))
    return [n for n in names if expected.get(n) != actual.get(n)]


def report(expected: dict[str, str], actual: dict[str, str], *, limit: int = 8) -> str:
    """A unified diff of the first ``limit`` differing files, and the list of all."""
    changed = differences(expected, actual)
    parts = [f"{len(changed)} snapshot file(s) differ: {', '.join(changed)}"]
    for name in changed[:limit]:
        diff = difflib.unified_diff(
            expected.get(name, "").splitlines(keepends=True),
            actual.get(name, "").splitlines(keepends=True),
            f"stored/{name}",
            f"now/{name}",
            n=2,
        )
        parts.append("".join(list(diff)[:60]))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="regenerate data/")
    args = parser.parse_args(argv)
    files = build()
    if args.write:
        write(files)
        size = sum(len(t.encode()) for t in files.values())
        print(f"wrote {len(files)} files, {size} bytes, to {DATA}")
        return 0
    old = stored()
    if old == files:
        print(f"{len(files)} files match")
        return 0
    print(report(old, files))
    return 1


if __name__ == "__main__":
    sys.exit(main())
