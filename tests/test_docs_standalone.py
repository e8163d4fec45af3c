"""The repository stands alone: no file points to a document that is not in it.

A reference such as "see the security notes, row 7" is only worth something when the
reader can open what it names. Promises live in docs/security.md, the interfaces in
docs/api.md and docs/signaling.md, the design in docs/architecture.md; a docstring,
comment, page or doc that names a file from outside this repository sends the reader
nowhere.
"""

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GIT = shutil.which("git")
CHECKED = [
    "teletherapy",
    "signaling",
    "ratings",
    "templates",
    "tests",
    "docs",
    "bench",
    "scripts",
    "config",
    "migrations",
    "README.md",
    "Makefile",
    "pyproject.toml",
]
TEXT = {"", ".py", ".js", ".html", ".css", ".md", ".toml", ".yml"}
# The project's planning files, kept outside the repository, and short forms of them.
OUTSIDE = re.compile(
    r"SECURITY\.md|CONTRACT\.md|WEBRTC-NOTES|\bUI\.md|RESEARCH\.md|STYLE\.md"
    r"|\.\./shared|\bSECURITY rows?\b|\bCONTRACT\b"
)


def _tracked_files() -> list[Path]:
    assert GIT is not None, "git is needed to list the repository's files"
    listed = subprocess.run(
        [GIT, "ls-files", "-z", "--", *CHECKED],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    files = [ROOT / name for name in listed.split("\0") if name]
    itself = Path(__file__).resolve()
    return [f for f in files if f.suffix in TEXT and f.is_file() and f != itself]


def test_files_are_listed() -> None:
    names = {f.relative_to(ROOT).as_posix() for f in _tracked_files()}
    assert {"docs/security.md", "teletherapy/__init__.py", "README.md"} <= names


def test_no_reference_to_a_file_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _tracked_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not found, "\n".join(found)
