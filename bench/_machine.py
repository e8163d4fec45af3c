"""What a result was measured on: cores, CPU model, Python and the versions that matter."""

from __future__ import annotations

import os
import platform
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


def describe() -> dict[str, Any]:
    """Machine and software versions, for every results file."""
    versions = {}
    for name in PACKAGES:
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
