"""Behaviour unchanged: every GET page and API answer on the demo data is byte-for-byte
what tests/golden/data/ holds (generated from the code before the code-health
refactors; regenerate with ``python -m tests.golden.snapshot --write`` only for an
intended change, and say which in the commit).

The snapshot is built in a fresh interpreter: ids come from a seeded ``uuid4``, and
anything an earlier test left behind in this process (a lazily made dummy password
hash that took an id, say) would shift every id after it.
"""

import subprocess
import sys
from pathlib import Path

from tests.golden import snapshot

ROOT = Path(__file__).resolve().parent.parent


def test_pages_api_and_research_match_the_golden_snapshot() -> None:
    assert snapshot.stored(), "no golden files: run python -m tests.golden.snapshot"
    done = subprocess.run(
        [sys.executable, "-m", "tests.golden.snapshot"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-20_000:] + done.stderr[-5_000:]
