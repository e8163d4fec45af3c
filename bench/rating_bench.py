"""(4) Rating submission p99 under 50 concurrent raters ÷ GET /api/v1/me at the same concurrency.

`teletherapy serve` (gevent) on a throwaway PostgreSQL database holds ended sessions;
each rater is a participant with an API token. A round starts 50 raters at once (a
barrier) and times each request from send to response:

- rating round: every rater POSTs a complete, valid answer set to
  `/api/v1/sessions/{id}/rating` (201; each rater submits once, so every round uses
  fresh sessions, both perspectives);
- baseline round: the same 50 raters GET `/api/v1/me` (200): the same HTTP stack,
  token authentication, policy table and JSON, and one primary-key read. The ratio is
  what a submission costs on top of the cheapest authenticated API call: loading the
  session and the instrument, validating and scoring the answers, and one transaction
  with the rating row and its audit row.

Rounds alternate; p50 and p99 over all rounds are compared. There is no target ratio
in the issue; the figure is tracked from run to run.

    python -m bench.rating_bench [--raters 50] [--rounds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import numpy as np

from bench._machine import describe, write_results
from bench._servers import App, Postgres, bulk_dyads


def _end_sessions(database_url: str, session_ids: list[str]) -> None:
    """Mark the sessions as having taken place and ended a minute ago."""
    from sqlalchemy import create_engine, update

    from teletherapy.models import TherapySession

    now = datetime.now(UTC)
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            update(TherapySession)
            .where(TherapySession.id.in_(session_ids))
            .values(
                status="ended",
                started_at=now - timedelta(minutes=51),
                ended_at=now - timedelta(minutes=1),
            )
        )
    engine.dispose()


def _raters(dyads: list[dict[str, str]]) -> list[dict[str, str]]:
    """Both participants of every session: (token, session, perspective)."""
    return [
        {"token": d[f"{role}_token"], "session_id": d["session_id"], "role": role}
        for d in dyads
        for role in ("client", "therapist")
    ]


async def _answers(
    http: aiohttp.ClientSession, url: str, rater: dict[str, str]
) -> dict[str, int]:
    """A complete answer set for the rater's form (mid-scale on every item)."""
    async with http.get(
        f"{url}/api/v1/sessions/{rater['session_id']}/rating",
        headers={"Authorization": f"Bearer {rater['token']}"},
    ) as response:
        assert response.status == 200, await response.text()
        form = (await response.json())["instrument"]
    return {i["id"]: (i["min"] + i["max"]) // 2 for i in form["items"]}


async def _timed(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str,
    body: Any,
    expect: int,
    gate: asyncio.Event,
) -> float:
    await gate.wait()
    start = time.perf_counter()
    async with http.request(
        method, url, json=body, headers={"Authorization": f"Bearer {token}"}
    ) as response:
        await response.read()
        assert response.status == expect, (response.status, await response.text())
    return (time.perf_counter() - start) * 1000


async def _round(
    http: aiohttp.ClientSession, calls: list[tuple[str, str, str, Any, int]]
) -> list[float]:
    gate = asyncio.Event()
    tasks = [asyncio.create_task(_timed(http, *c, gate)) for c in calls]
    await asyncio.sleep(0.05)  # every request is waiting at the gate
    gate.set()
    return list(await asyncio.gather(*tasks))


async def run(
    url: str, raters: list[dict[str, str]], per_round: int, rounds: int
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"submit": [], "me": []}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        templates = {
            r["role"]: await _answers(http, url, r)
            for r in (raters[0], raters[1])  # one client, one therapist
        }
        warm = [("GET", f"{url}/api/v1/me", r["token"], None, 200) for r in raters]
        await _round(http, warm[:per_round])
        for i in range(rounds):
            group = raters[i * per_round : (i + 1) * per_round]
            submit = [
                (
                    "POST",
                    f"{url}/api/v1/sessions/{r['session_id']}/rating",
                    r["token"],
                    {"answers": templates[r["role"]]},
                    201,
                )
                for r in group
            ]
            me = [("GET", f"{url}/api/v1/me", r["token"], None, 200) for r in group]
            for name, calls in (("submit", submit), ("me", me))[:: 1 if i % 2 else -1]:
                samples[name] += await _round(http, calls)
    return samples


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raters", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args(argv)
    with Postgres() as pg:
        dyads = bulk_dyads(pg.url, (args.raters * args.rounds + 1) // 2)
        _end_sessions(pg.url, [d["session_id"] for d in dyads])
        app = App(database_url=pg.url)
        app.start()
        try:
            samples = asyncio.run(
                run(app.url, _raters(dyads), args.raters, args.rounds)
            )
        finally:
            app.stop()
    return _finish(samples, args.raters)


def _finish(samples: dict[str, list[float]], raters: int) -> dict[str, Any]:
    stats = {
        k: {
            "p50_ms": float(np.percentile(v, 50)),
            "p99_ms": float(np.percentile(v, 99)),
            "n": len(v),
        }
        for k, v in samples.items()
    }
    ratio = stats["submit"]["p99_ms"] / stats["me"]["p99_ms"]
    report = {
        "benchmark": f"rating submission under {raters} concurrent raters vs GET /api/v1/me",
        "baseline": f"GET /api/v1/me, same {raters} raters and tokens, same concurrency",
        "machine": describe(),
        "stats": stats,
        "ratio_p99": ratio,
        "ratio_p50": stats["submit"]["p50_ms"] / stats["me"]["p50_ms"],
        "goal": "none set; tracked",
    }
    print(
        f"{'under ' + str(raters) + ' concurrent':<34}{'p50 ms':>10}{'p99 ms':>10}{'n':>6}"
    )
    for key, label in (
        ("submit", "POST .../rating (201)"),
        ("me", "GET /api/v1/me (baseline)"),
    ):
        row = stats[key]
        print(f"{label:<34}{row['p50_ms']:>10.1f}{row['p99_ms']:>10.1f}{row['n']:>6}")
    print(f"{'ratio submit/me':<34}{report['ratio_p50']:>10.2f}{ratio:>10.2f}")
    write_results("rating", report)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
