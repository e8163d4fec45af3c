"""Research filters: what a researcher narrows the data to, parsed from a query.

Every bad or unknown query parameter is a 422 with a message naming what was
expected and what came (the same for the API, the pages and the plots).
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from ..models import MODALITIES
from ..services.errors import Invalid

FILTER_KEYS = ("modality", "instrument", "from", "to", "therapist")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
INSTRUMENT_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
THERAPIST_PID = re.compile(r"T-[0-9a-f]{16}")


@dataclass(frozen=True)
class Filters:
    """What a researcher narrowed the data to (every part optional)."""

    modality: str | None = None
    instrument: str | None = None
    start: date | None = None
    end: date | None = None
    therapist: str | None = None

    def as_args(self) -> dict[str, str]:
        """Query arguments that give these filters again (empty parts left out)."""
        values = {
            "modality": self.modality,
            "instrument": self.instrument,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "therapist": self.therapist,
        }
        return {k: v for k, v in values.items() if v}


def parse_filters(args: Mapping[str, str], extra: Iterable[str] = ()) -> Filters:
    """Filters from query arguments; 422 with a message per bad or unknown one."""
    allowed = (*FILTER_KEYS, *extra)
    errors = {
        k: f"unknown query parameter (expected one of: {', '.join(allowed)})"
        for k in args
        if k not in allowed
    }
    raw = {k: (args.get(k) or "").strip() for k in FILTER_KEYS}
    checks: dict[str, tuple[Callable[[str], object], str]] = {
        "modality": (
            lambda v: v in MODALITIES,
            f"must be one of {', '.join(MODALITIES)}",
        ),
        "instrument": (
            INSTRUMENT_ID.fullmatch,
            "must be an instrument or pair id, e.g. 'dta-c'",
        ),
        "from": (_is_date, "must be a date YYYY-MM-DD"),
        "to": (_is_date, "must be a date YYYY-MM-DD"),
        "therapist": (
            THERAPIST_PID.fullmatch,
            "must be a therapist pseudonym T-<16 hex digits>",
        ),
    }
    for key, (ok, message) in checks.items():
        if raw[key] and not ok(raw[key]):
            errors[key] = f"{message} (got {raw[key][:40]!r})"
    start = (
        date.fromisoformat(raw["from"])
        if "from" not in errors and raw["from"]
        else None
    )
    end = date.fromisoformat(raw["to"]) if "to" not in errors and raw["to"] else None
    if start and end and end < start:
        errors["to"] = f"must be on or after 'from' {start} (got {end})"
    if errors:
        raise Invalid("invalid query", errors)
    return Filters(
        raw["modality"] or None,
        raw["instrument"] or None,
        start,
        end,
        raw["therapist"] or None,
    )


def _is_date(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
