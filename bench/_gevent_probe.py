"""Run inside a process patched the way `teletherapy serve` patches itself; print JSON.

    python -m bench._gevent_probe DATABASE_URL CONCURRENCY SLEEP_S

`teletherapy serve` imports `teletherapy.cli` (and with it SQLAlchemy and the app's
extensions) before it calls ``gevent.monkey.patch_all()``; psycopg is imported later,
when the app builds its engine. This probe repeats exactly that order, then runs
CONCURRENCY greenlets that each hold a pooled connection through ``db.session`` for a
``pg_sleep(SLEEP_S)``, while a ticker greenlet measures how long the hub was blocked.
"""

import itertools
import json
import sys
import time

from gevent import monkey

import teletherapy.cli  # noqa: F401  same import order as `teletherapy serve`

monkey.patch_all()

import gevent  # noqa: E402
import psycopg.waiting  # noqa: E402
from sqlalchemy import text  # noqa: E402

from teletherapy import create_app  # noqa: E402
from teletherapy.extensions import db  # noqa: E402


def main(url: str, concurrency: int, sleep_s: float) -> dict[str, object]:
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": url,
            "SECRET_KEY": "probe",
            "PSEUDONYM_KEY": "probe",
            "ASYNC_MODE": "gevent",
        }
    )
    sessions: set[int] = set()

    def query() -> float:
        with app.app_context():
            sessions.add(id(db.session()))
            start = time.perf_counter()
            db.session.execute(text("SELECT pg_sleep(:s)"), {"s": sleep_s})
            db.session.commit()
            return time.perf_counter() - start

    ticks: list[float] = []
    running = True

    def ticker() -> None:
        while running:
            ticks.append(time.perf_counter())
            gevent.sleep(0.005)

    query()  # open the first connection; warm up
    single = min(query() for _ in range(3))
    sessions.clear()
    tick = gevent.spawn(ticker)
    start = time.perf_counter()
    gevent.joinall([gevent.spawn(query) for _ in range(concurrency)], raise_error=True)
    together = time.perf_counter() - start
    running = False
    tick.join()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert db.engine is not None  # the app context bound it
    db.engine.dispose()
    return {
        "psycopg_wait_function": psycopg.waiting.wait.__name__,  # type: ignore[attr-defined]  # a function typed as a Protocol
        "select_patched": monkey.is_module_patched("select"),
        "pool_size": app.config.get("DATABASE_POOL_SIZE"),
        "concurrency": concurrency,
        "sleep_s": sleep_s,
        "single_s": single,
        "together_s": together,
        "distinct_sessions": len(sessions),
        "hub_longest_block_ms": max(gaps) * 1000 if gaps else None,
    }


if __name__ == "__main__":
    url, concurrency, sleep_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    print(json.dumps(main(url, concurrency, sleep_s)))
