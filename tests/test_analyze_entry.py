"""`teletherapy analyze` runs without building the web application (teletherapy/entry.py)."""

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
sys.argv = ["teletherapy", "analyze", sys.argv[1], "--json", "--no-multilevel"]
from teletherapy.entry import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(
    m for m in sys.modules
    if m.split(".")[0] in {"flask_socketio", "sqlalchemy", "gevent", "flask_login"}
    or m in {"teletherapy.extensions", "teletherapy.research.views"}
)
print("\\nPROBE " + json.dumps({"code": code, "heavy": heavy}))
"""


def _pairs_csv(path: Path) -> Path:
    lines = ["dyad_id,session_number,client_score,therapist_score"]
    for d in range(6):
        for s in range(1, 5):
            lines.append(f"d{d},{s},{30 + d + s % 2},{28 + d - s % 3}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_analyze_runs_without_the_web_application(tmp_path: Path) -> None:
    csv = _pairs_csv(tmp_path / "pairs.csv")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(csv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary_text, _, probe = done.stdout.rpartition("\nPROBE ")
    result = json.loads(probe)
    assert result["code"] == 0, done.stderr
    assert json.loads(summary_text)["n_pairs"] == 24
    assert result["heavy"] == []


def test_other_commands_still_go_through_the_app() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "teletherapy", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for command in ("analyze", "db", "demo", "export", "serve", "users"):
        assert f"  {command} " in done.stdout
