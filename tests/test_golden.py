"""Behaviour unchanged: every GET page and API answer on the demo data is byte-for-byte
what tests/golden/data/ holds (generated from the code before the code-health
refactors; regenerate with ``python -m tests.golden.snapshot --write`` only for an
intended change, and say which in the commit)."""

from tests.golden import snapshot


def test_pages_api_and_research_match_the_golden_snapshot() -> None:
    expected = snapshot.stored()
    assert expected, "no golden files: run python -m tests.golden.snapshot --write"
    actual = snapshot.build()
    assert actual == expected, snapshot.report(expected, actual)
