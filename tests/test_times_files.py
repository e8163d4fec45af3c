"""teletherapy.times (the one time formatter) and teletherapy.private_files."""

import os
import stat
from datetime import UTC, datetime, timedelta, timezone

from teletherapy.private_files import write_private
from teletherapy.times import api_time, page_time

BERLIN = timezone(timedelta(hours=1))


def test_api_times_end_in_z_and_page_times_in_offset() -> None:
    at = datetime(2026, 12, 1, 10, 0, 5, 123000, tzinfo=BERLIN)
    assert api_time(at) == "2026-12-01T09:00:05.123000Z"
    assert page_time(at) == "2026-12-01T09:00:05.123000+00:00"
    assert api_time(datetime(2026, 12, 1, tzinfo=UTC)) == "2026-12-01T00:00:00Z"
    assert api_time(None) is None and page_time(None) == ""


def test_write_private_replaces_with_mode_0600(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "sub" / "out.csv"
    assert write_private(target, "a,b\r\n1,2\n") == target
    assert target.read_bytes() == b"a,b\r\n1,2\n"
    os.chmod(target, 0o644)
    write_private(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["out.csv"]
