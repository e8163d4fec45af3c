"""(1) Relay latency through /rtc ÷ a bare python-socketio relay, same async mode (gevent).

Both servers run in their own processes; this process drives them over loopback with
python-socketio clients. One message in flight at a time (latency, not throughput); a
3 KB SDP-sized payload; rounds alternate between the two servers so drift hits both.
The /rtc path includes authentication at connect, payload validation, the policy table,
the rate limiter, presence and the join state. Goal: p50 and p99 ratios ≤ 1.2.

    python -m bench.relay_bench [--messages 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
from pathlib import Path

import numpy as np
import socketio

from bench._servers import App, BareRelay, prepare_database

RESULTS = Path(__file__).parent / "results" / "relay.json"
PACE_S = 0.025
SDP = "v=0\r\n" + "a=candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host\r\n" * 50


async def _pair(
    url: str, dyad: dict[str, str]
) -> tuple[socketio.AsyncClient, socketio.AsyncClient]:
    clients = []
    for token in (dyad["client_token"], dyad["therapist_token"]):
        c = socketio.AsyncClient(reconnection=False)
        await c.connect(
            url, namespaces=["/rtc"], transports=["websocket"], auth={"token": token}
        )
        ack = await c.call("join", {"session_id": dyad["session_id"]}, namespace="/rtc")
        assert ack["ok"], ack
        clients.append(c)
    return clients[0], clients[1]


async def latencies(
    url: str, dyad: dict[str, str], n: int, warmup: int = 50
) -> list[float]:
    """Milliseconds from emit to the peer's receipt, for n messages after a warm-up."""
    a, b = await _pair(url, dyad)
    arrived = asyncio.Event()
    stamp: list[float] = [0.0]

    def on_signal(_data: object) -> None:
        stamp[0] = time.perf_counter()
        arrived.set()

    b.on("signal", on_signal, namespace="/rtc")
    out = []
    for i in range(warmup + n):
        await asyncio.sleep(PACE_S)  # under the product's 50/s signal limit
        arrived.clear()
        t0 = time.perf_counter()
        await a.emit(
            "signal",
            {
                "session_id": dyad["session_id"],
                "description": {"type": "offer", "sdp": SDP},
            },
            namespace="/rtc",
        )
        await asyncio.wait_for(arrived.wait(), 10)
        if i >= warmup:
            out.append((stamp[0] - t0) * 1000)
    await a.disconnect()
    await b.disconnect()
    return out


def main(argv: list[str]) -> dict:  # type: ignore[type-arg]
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    app = App()
    dyads = prepare_database(app.database_url, dyads=args.rounds)
    app.start()
    bare = BareRelay().start()
    samples: dict[str, list[float]] = {"app": [], "bare": []}
    try:
        for r in range(args.rounds):
            order = [("app", app.url), ("bare", bare.url)]
            for name, url in order if r % 2 == 0 else order[::-1]:
                samples[name] += asyncio.run(latencies(url, dyads[r], args.messages))
    finally:
        app.stop()
        bare.stop()
    report = _report(samples)
    _print(report)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    return report


def _report(samples: dict[str, list[float]]) -> dict:  # type: ignore[type-arg]
    stats = {
        k: {
            "p50_ms": float(np.percentile(v, 50)),
            "p99_ms": float(np.percentile(v, 99)),
            "n": len(v),
        }
        for k, v in samples.items()
    }
    ratios = {q: stats["app"][q] / stats["bare"][q] for q in ("p50_ms", "p99_ms")}
    return {
        "benchmark": "relay latency through /rtc vs a bare python-socketio relay (gevent)",
        "machine": {
            "cpus": _cpus(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "stats": stats,
        "ratio_p50": ratios["p50_ms"],
        "ratio_p99": ratios["p99_ms"],
        "goal": "ratio <= 1.2",
        "met": ratios["p50_ms"] <= 1.2 and ratios["p99_ms"] <= 1.2,
    }


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def _print(report: dict) -> None:  # type: ignore[type-arg]
    s = report["stats"]
    print(f"{'relay latency':<28}{'p50 ms':>10}{'p99 ms':>10}{'n':>8}")
    for name, label in (("app", "/rtc (app)"), ("bare", "bare python-socketio")):
        row = s[name]
        print(f"{label:<28}{row['p50_ms']:>10.3f}{row['p99_ms']:>10.3f}{row['n']:>8}")
    verdict = "met" if report["met"] else "NOT met"
    p50, p99 = report["ratio_p50"], report["ratio_p99"]
    print(f"{'ratio app/bare':<28}{p50:>10.2f}{p99:>10.2f}   goal <= 1.2: {verdict}")


if __name__ == "__main__":
    main(__import__("sys").argv[1:])
