"""What a result was measured on (cores, CPU model, Python, the versions that matter),
and where each bench writes it."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "flask",
    "flask-socketio",
    "python-socketio",
    "python-engineio",
    "simple-websocket",
    "gevent",
    "greenlet",
    "sqlalchemy",
    "psycopg",
    "redis",
    "pydantic",
    "aiortc",
    "aiohttp",
)


def cpu_model() -> str:
    """The first ``model name`` in /proc/cpuinfo (Linux), else the platform's answer."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe(packages: Iterable[str] = PACKAGES) -> dict[str, Any]:
    """Machine and the versions of ``packages``, for every results file."""
    versions: dict[str, str | None] = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpus": os.cpu_count() or 0,
        "cpu_model": cpu_model(),
        "memory_gib": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
        ),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


RESULTS_DIR = Path(__file__).parent / "results"


def write_results(name: str, report: dict[str, Any]) -> Path:
    """Write ``report`` to bench/results/<name>.json (not committed); return the path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return path
