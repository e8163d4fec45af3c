"""Run every bench module (bench/*_bench.py) in turn, each with its defaults.

python -m bench [module ...]     # e.g. python -m bench relay_bench call_bench
python -m bench.<module> --help  # one bench's own options
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.endswith("_bench")
    )


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        print("\nmodules:", ", ".join(modules()))
        return 0
    unknown = sorted(set(argv) - set(modules()))
    if unknown:
        print(f"unknown bench module(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    for name in argv or modules():
        print(f"== bench.{name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        module.main([])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
