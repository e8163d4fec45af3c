"""The docs cite tests that exist: every `tests/…` path and `::test_name` in docs/ is real.

docs/security.md maps each promise to the tests that prove it; a citation of a test that
was renamed or never existed would make a promise look proven when nothing checks it.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
# `tests/x.py`, `tests/x.py::test_a`, then `::test_b` shorthands for the same file
CITATION = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _citations(doc: Path) -> list[tuple[int, str, str | None]]:
    """(line, file, test name or None) for every citation, shorthands resolved."""
    found = []
    for number, line in enumerate(doc.read_text().splitlines(), start=1):
        current = None
        for match in CITATION.finditer(line):
            path, name, short = match.groups()
            if path:
                current = path
                found.append((number, path, name))
            elif current is not None:
                found.append((number, current, short))
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_cited_test_exists(doc: Path) -> None:
    missing = []
    for line, path, name in _citations(doc):
        file = ROOT / path
        if not file.is_file():
            missing.append(f"{doc.name}:{line}: {path} does not exist")
        elif name is not None and name not in _test_names(file):
            missing.append(f"{doc.name}:{line}: {path} has no {name}")
    assert not missing, "\n".join(missing)


def test_security_doc_cites_a_test_for_every_row() -> None:
    rows = [
        line
        for line in (ROOT / "docs/security.md").read_text().splitlines()
        if re.match(r"\| \d+ \|", line)
    ]
    assert len(rows) >= 20
    for row in rows:
        assert "`tests/" in row, f"no test cited: {row[:60]}"
