"""The one time formatter: ISO 8601 in UTC, in the two forms clients see today.

The API and socket payloads end in ``Z`` (docs/api.md); the ``datetime`` attribute of
``<time>`` on pages ends in ``+00:00``. Both are RFC 3339; each output keeps its form.
"""

from datetime import UTC, datetime


def utc_iso(value: datetime, *, zulu: bool) -> str:
    """``value`` in UTC as ISO 8601, ending in ``Z`` if ``zulu`` else ``+00:00``."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z") if zulu else text


def api_time(value: datetime | None) -> str | None:
    """JSON (API and sockets): ``null`` or ``…Z``."""
    return None if value is None else utc_iso(value, zulu=True)


def page_time(value: datetime | None) -> str:
    """Pages (the ``iso`` template filter): ``""`` or ``…+00:00``."""
    return "" if value is None else utc_iso(value, zulu=False)
