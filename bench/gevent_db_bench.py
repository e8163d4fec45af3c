"""(5) Does the database yield under gevent? K concurrent 200 ms queries ÷ one query.

A check of the async-mode choice (docs/performance.md): inside a process patched the
way `teletherapy serve` patches itself (bench._gevent_probe), K greenlets each run
``SELECT pg_sleep(0.2)`` through the app's engine, pool and ``db.session``. If psycopg
blocked the process, K queries would take K × 0.2 s (ratio K); cooperative waiting
takes one query's time while K fits the pool (ratio ≈ 1), and waves of the pool size
beyond it (K = 30 over a pool of 20: ratio ≈ 2, and no deadlock). The ticker column is
the longest time the gevent hub was blocked meanwhile.

    python -m bench.gevent_db_bench
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench._machine import describe, write_results
from bench._servers import ROOT, Postgres

SLEEP_S = 0.2
CASES = (10, 30)


def probe(url: str, concurrency: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench._gevent_probe",
            url,
            str(concurrency),
            str(SLEEP_S),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str]) -> dict[str, Any]:
    with Postgres() as pg:
        from teletherapy.services import migrations

        migrations.upgrade(pg.url)
        rows = [probe(pg.url, k) for k in CASES]
    for row in rows:
        row["ratio"] = row["together_s"] / row["single_s"]
    report = {
        "benchmark": "concurrent pg_sleep queries under gevent ÷ one query",
        "machine": describe(),
        "cases": rows,
        "cooperative": rows[0]["ratio"] < 2,
    }
    print(
        f"wait function {rows[0]['psycopg_wait_function']}, select patched: "
        f"{rows[0]['select_patched']}, pool {rows[0]['pool_size']}"
    )
    print(
        f"{'greenlets':>10}{'one (s)':>10}{'all (s)':>10}{'ratio':>8}"
        f"{'sessions':>10}{'hub block ms':>14}"
    )
    for row in rows:
        print(
            f"{row['concurrency']:>10}{row['single_s']:>10.3f}{row['together_s']:>10.3f}"
            f"{row['ratio']:>8.2f}{row['distinct_sessions']:>10}"
            f"{row['hub_longest_block_ms']:>14.1f}"
        )
    verdict = "yes" if report["cooperative"] else "NO: the database blocks the process"
    print(f"queries yield to other greenlets: {verdict}")
    write_results("gevent_db", report)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
