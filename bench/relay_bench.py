"""(1) Relay latency through /rtc ÷ a bare python-socketio relay, same async mode (gevent).

Both servers run in their own processes; this process drives them over loopback with
python-socketio clients. One message in flight at a time (latency, not throughput); a
3 KB SDP-sized payload, paced under the product's 50/s `signal` limit; short rounds
alternate between the two servers so drift hits both. The /rtc path includes token
authentication at connect, the join, and per message the rate limiter, the policy
table, the join state and payload validation. Both servers set TCP_NODELAY on their
WebSockets (bench/bare_relay.py), so the ratio is per-message work, not socket options.

Besides latency, each server's CPU time per relayed message is measured over the timed
messages (/proc): less sensitive to a busy machine than p99. With py-spy installed, a
last, untimed phase drives the app with 10 pairs at once and samples it (--no-profile
to skip). Goal: p50 and p99 ratios <= 1.2.

    python -m bench.relay_bench [--messages 200] [--rounds 8] [--no-profile]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import numpy as np
import socketio

from bench._machine import describe, write_results
from bench._profile import Profiler, print_summary
from bench._servers import App, BareRelay, cpu_seconds, prepare_database

PACE_S = 0.025
WARMUP = 30
PROFILE_PAIRS = 10
GOAL = 1.2
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
    url: str, dyad: dict[str, str], n: int, pid: int | None = None
) -> tuple[list[float], float | None]:
    """Milliseconds from emit to the peer's receipt for n messages after a warm-up,
    and the server's CPU seconds over the timed messages (when ``pid`` is given)."""
    a, b = await _pair(url, dyad)
    arrived = asyncio.Event()
    stamp: list[float] = [0.0]

    def on_signal(_data: object) -> None:
        stamp[0] = time.perf_counter()
        arrived.set()

    b.on("signal", on_signal, namespace="/rtc")
    out = []
    cpu0 = 0.0
    body = {
        "session_id": dyad["session_id"],
        "description": {"type": "offer", "sdp": SDP},
    }
    for i in range(WARMUP + n):
        if i == WARMUP and pid is not None:
            cpu0 = cpu_seconds(pid)
        await asyncio.sleep(PACE_S)
        arrived.clear()
        t0 = time.perf_counter()
        await a.emit("signal", body, namespace="/rtc")
        await asyncio.wait_for(arrived.wait(), 10)
        if i >= WARMUP:
            out.append((stamp[0] - t0) * 1000)
    cpu_s = cpu_seconds(pid) - cpu0 if pid is not None else None
    await a.disconnect()
    await b.disconnect()
    return out, cpu_s


async def _profile_load(url: str, dyads: list[dict[str, str]], n: int) -> None:
    await asyncio.gather(*(latencies(url, d, n) for d in dyads))


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args(argv)
    app = App()
    dyads = prepare_database(app.database_url, dyads=max(args.rounds, PROFILE_PAIRS))
    app.start()
    bare = BareRelay().start()
    samples: dict[str, list[float]] = {"app": [], "bare": []}
    cpu: dict[str, list[float]] = {"app": [], "bare": []}
    profile: dict[str, Any] | None = None
    try:
        servers: dict[str, App | BareRelay] = {"app": app, "bare": bare}
        for r in range(args.rounds):
            order = ["app", "bare"] if r % 2 == 0 else ["bare", "app"]
            for name in order:
                server = servers[name]
                lat, cpu_s = asyncio.run(
                    latencies(server.url, dyads[r], args.messages, server.proc.pid)  # type: ignore[union-attr]  # started above
                )
                samples[name] += lat
                cpu[name].append(cpu_s or 0.0)
        if not args.no_profile:
            spy = Profiler(app.proc.pid, 12)  # type: ignore[union-attr]  # started above
            asyncio.run(_profile_load(app.url, dyads[:PROFILE_PAIRS], 400))
            profile = spy.summary()
    finally:
        app.stop()
        bare.stop()
    report = _report(samples, cpu)
    report["app_profile_10_pairs"] = profile
    _print(report)
    print_summary(profile, f"app server profile, {PROFILE_PAIRS} pairs at once")
    write_results("relay", report)
    return report


def _report(
    samples: dict[str, list[float]], cpu: dict[str, list[float]]
) -> dict[str, Any]:
    stats = {
        k: {
            "p50_ms": float(np.percentile(v, 50)),
            "p99_ms": float(np.percentile(v, 99)),
            "n": len(v),
            # summed over all rounds: /proc counts 10 ms clock ticks, too coarse
            # for one round of a few hundred messages
            "cpu_us_per_message": sum(cpu[k]) / len(v) * 1e6,
        }
        for k, v in samples.items()
    }
    ratios = {q: stats["app"][q] / stats["bare"][q] for q in ("p50_ms", "p99_ms")}
    bare_cpu = stats["bare"]["cpu_us_per_message"]
    # a very short run may show no CPU time at all
    cpu_ratio = stats["app"]["cpu_us_per_message"] / bare_cpu if bare_cpu else None
    return {
        "benchmark": "relay latency through /rtc vs a bare python-socketio relay (gevent)",
        "machine": describe(),
        "stats": stats,
        "ratio_p50": ratios["p50_ms"],
        "ratio_p99": ratios["p99_ms"],
        "ratio_cpu_per_message": cpu_ratio,
        "goal": f"ratio <= {GOAL}",
        "met": ratios["p50_ms"] <= GOAL and ratios["p99_ms"] <= GOAL,
    }


def _print(report: dict[str, Any]) -> None:
    s = report["stats"]
    print(
        f"{'relay latency':<28}{'p50 ms':>10}{'p99 ms':>10}{'cpu us/msg':>12}{'n':>7}"
    )
    for name, label in (("app", "/rtc (app)"), ("bare", "bare python-socketio")):
        row = s[name]
        print(
            f"{label:<28}{row['p50_ms']:>10.3f}{row['p99_ms']:>10.3f}"
            f"{row['cpu_us_per_message']:>12.0f}{row['n']:>7}"
        )
    verdict = "met" if report["met"] else "NOT met"
    p50, p99, c = (
        report["ratio_p50"],
        report["ratio_p99"],
        report["ratio_cpu_per_message"],
    )
    cpu = f"{c:>12.2f}" if c is not None else f"{'n/a':>12}"
    print(
        f"{'ratio app/bare':<28}{p50:>10.2f}{p99:>10.2f}{cpu}   goal <= {GOAL}: {verdict}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
