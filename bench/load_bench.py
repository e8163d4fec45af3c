"""(2) Live sessions one server process holds with relay p99 < 50 ms; then two behind Redis.

The servers are real `teletherapy serve` processes (gevent) on a throwaway PostgreSQL
database (quality samples and chat are database writes; SQLite is not the production
database). The load runs in separate processes (bench._load): every session has two
sockets, each sending a `quality` sample every 5 s and chat at a human rate, while a
probe process relays `signal` ten times a second on a few extra pairs and times it.
N is ramped (sessions are added, never reconnected); a level *holds* when relay p99 is
under 50 ms, no probe message is lost, no socket fails to connect or drops, and every
quality and chat ack is `ok` within 15 s. The ramp stops at the first level that does
not hold. Two processes: the same ramp with sockets spread at random over both (as a
balancer would), probes always crossing processes, Redis as message queue and presence.

The baseline for (2) is the one-process result itself: the two-process figure is
reported as a ratio of it (goal >= 1.8), the one-process figure against the goal 2,000.

    python -m bench.load_bench [--levels 250,500,1000,1500,2000,3000,4000] [--window 15]
        [--workers 3] [--no-two] [--two-levels N,N] [--one-result N] [--chat-gap S]
        [--no-profile]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
from sqlalchemy.engine import make_url

from bench import _load
from bench._machine import describe, write_results
from bench._profile import Profiler, print_summary
from bench._servers import (
    REDIS_URL,
    App,
    Postgres,
    bulk_dyads,
    machine_busy,
    postgres_pids,
    rss_bytes,
    total_cpu_seconds,
)

P99_GOAL_MS = 50.0
SESSIONS_GOAL = 2000
TWO_PROCESS_GOAL = 1.8
PROBE_PAIRS = 4
SETTLE_S = 10.0  # after adding sockets: their joins and first samples drain first


class CpuMeter:
    """CPU used by groups of processes over a window, in % of one core; the
    machine's total too, and what no group accounts for (other users' jobs)."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self.start()

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.busy0 = machine_busy()
        self.snap0 = {g: total_cpu_seconds(f()) for g, f in self.groups.items()}

    def stop(self) -> dict[str, float]:
        elapsed = time.monotonic() - self.t0
        out = {}
        for group, pids in self.groups.items():
            now = total_cpu_seconds(pids())
            before = self.snap0[group]
            used = sum(v - before.get(pid, 0.0) for pid, v in now.items())
            out[group] = round(100 * used / elapsed, 1)
        busy1, total1 = machine_busy()
        share = (busy1 - self.busy0[0]) / max(1.0, total1 - self.busy0[1])
        cores = os.cpu_count() or 1
        out["machine"] = round(100 * share * cores, 1)
        out["other"] = round(out["machine"] - sum(out[g] for g in self.groups), 1)
        return out


class Remote:
    """A load-generator process and its pipe."""

    def __init__(self, seed: int, chat_gap_s: float = _load.CHAT_MEAN_GAP_S) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_load.run, args=(child, seed, chat_gap_s), daemon=True
        )
        self.proc.start()

    def send(self, command: str, argument: Any = None) -> None:
        self.conn.send((command, argument))

    def recv(self, timeout: float = 600) -> Any:
        if not _ready(self.conn, timeout):
            raise TimeoutError("load generator did not answer")
        return self.conn.recv()

    def ask(self, command: str, argument: Any = None, timeout: float = 600) -> Any:
        self.send(command, argument)
        return self.recv(timeout)

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(10)


def _ready(conn: Connection, timeout: float) -> bool:
    return conn.poll(timeout)


def _sockets(
    dyads: list[dict[str, str]], urls: list[str], rng: random.Random
) -> list[tuple[str, str, str]]:
    return [
        (rng.choice(urls), d[f"{role}_token"], d["session_id"])
        for d in dyads
        for role in ("therapist", "client")
    ]


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    return {
        "p50": round(float(np.percentile(values, 50)), 2),
        "p99": round(float(np.percentile(values, 99)), 2),
        "max": round(float(max(values)), 2),
    }


def _merge(
    stats: list[dict[str, Any]],
) -> tuple[dict[str, int], dict[str, list[float]]]:
    counts: dict[str, int] = {}
    acks: dict[str, list[float]] = {"quality": [], "chat": []}
    for one in stats:
        for key, value in one["counts"].items():
            counts[key] = counts.get(key, 0) + value
        for key, values in one["acks"].items():
            acks[key] += values
    return counts, acks


def ramp(
    servers: list[App],
    dyads: list[dict[str, str]],
    probes: list[dict[str, str]],
    levels: list[int],
    window: float,
    workers: int,
    profile: bool,
    chat_gap_s: float,
    database: str,
) -> dict[str, Any]:
    """Add sessions level by level; measure each; stop at the first that fails."""
    rng = random.Random(7)
    urls = [s.url for s in servers]
    gens = [Remote(seed=i, chat_gap_s=chat_gap_s) for i in range(workers)]
    prober = Remote(seed=1000)
    rows: list[dict[str, Any]] = []
    profiles: dict[str, Any] = {}
    try:
        pairs = [
            (
                (urls[0], p["client_token"]),
                (urls[-1], p["therapist_token"]),
                p["session_id"],
            )
            for p in probes
        ]
        prober.ask("probe_add", pairs, timeout=120)
        current = 0
        for level in levels:
            row, profiles[str(level)] = _level(
                servers,
                gens,
                prober,
                dyads[current:level],
                urls,
                rng,
                window,
                profile,
                database,
            )
            current = level
            row["sessions"] = level
            rows.append(row)
            _print_row(row)
            if not row["held"]:
                break
    finally:
        for gen in [*gens, prober]:
            gen.kill()
    held = [r["sessions"] for r in rows if r["held"]]
    last = str(rows[-1]["sessions"]) if rows else None
    return {
        "processes": len(servers),
        "levels": rows,
        "max_sessions_held": max(held) if held else 0,
        "profile_at_last_level": profiles.get(last) if last else None,
    }


def _level(
    servers: list[App],
    gens: list[Remote],
    prober: Remote,
    new: list[dict[str, str]],
    urls: list[str],
    rng: random.Random,
    window: float,
    profile: bool,
    database: str,
) -> tuple[dict[str, Any], Any]:
    specs = _sockets(new, urls, rng)
    started = time.monotonic()
    for i, gen in enumerate(gens):
        gen.send("add", specs[i :: len(gens)])
    added = [gen.recv() for gen in gens]
    connect_s = time.monotonic() - started
    time.sleep(SETTLE_S)
    for gen in gens:
        gen.ask("stats", True)
    meters = [CpuMeter({"server": lambda s=s: [s.proc.pid]}) for s in servers]  # type: ignore[misc]  # a lambda's default
    shared = CpuMeter(
        {
            "postgres": lambda: postgres_pids(database),
            "load generators": lambda: [g.proc.pid for g in [*gens, prober]],  # type: ignore[misc]  # started: pid set
        }
    )
    profiler = Profiler(servers[0].proc.pid, window) if profile else None  # type: ignore[union-attr]  # started
    probe = prober.ask("probe", window, timeout=window + 120)
    cpu = [m.stop()["server"] for m in meters]
    usage = shared.stop()
    usage["other"] = round(usage["other"] - sum(cpu), 1)
    counts, acks = _merge([gen.ask("stats", True) for gen in gens])
    relay = _percentiles(probe["latencies_ms"])
    failures = sum(v for k, v in counts.items() if not k.endswith(("_ok", "_received")))
    connect_failed = sum(a["failed"] for a in added)
    row = {
        "sockets_added": len(specs),
        "connect_s": round(connect_s, 1),
        "connect_failed": connect_failed,
        "connect_errors": [e for a in added for e in a["errors"]],
        "relay_ms": relay,
        "probe_sent": probe["sent"],
        "probe_lost": probe["lost"],
        "quality_per_s": round(counts.get("quality_ok", 0) / (window + 5), 1),
        "quality_ack_ms": _percentiles(acks["quality"]),
        "chat_per_s": round(counts.get("chat_ok", 0) / (window + 5), 1),
        "chat_ack_ms": _percentiles(acks["chat"]),
        "failures": {
            k: v for k, v in counts.items() if not k.endswith(("_ok", "_received"))
        },
        "server_cpu_pct": cpu,
        "cpu_pct_of_one_core": {"servers": sum(cpu), **usage},
        "server_rss_mb": [round(rss_bytes(s.proc.pid) / 2**20) for s in servers],  # type: ignore[union-attr]  # started
    }
    row["held"] = bool(
        relay["p99"] is not None
        and relay["p99"] < P99_GOAL_MS
        and probe["lost"] == 0
        and failures == 0
        and connect_failed == 0
    )
    return row, profiler.summary() if profiler else None


def _print_row(row: dict[str, Any]) -> None:
    relay, q = row["relay_ms"], row["quality_ack_ms"]
    print(
        f"{row['sessions']:>7}{row['connect_s']:>8.1f}{relay['p50']!s:>8}{relay['p99']!s:>8}"
        f"{row['quality_per_s']:>8}{q['p99']!s:>9}{row['chat_per_s']:>7}"
        f"{'/'.join(str(c) for c in row['server_cpu_pct']):>11}"
        f"{row['cpu_pct_of_one_core']['postgres']:>6}"
        f"{row['cpu_pct_of_one_core']['load generators']:>6}"
        f"{row['cpu_pct_of_one_core']['other']:>6}"
        f"{sum(row['failures'].values()) + row['connect_failed'] + row['probe_lost']:>6}"
        f"   {'held' if row['held'] else 'NOT held'}"
    )


def _header(title: str) -> None:
    print(title)
    print(
        f"{'sessions':>7}{'conn s':>8}{'p50 ms':>8}{'p99 ms':>8}{'qual/s':>8}"
        f"{'q ack99':>9}{'chat/s':>7}{'server%':>11}{'pg%':>6}{'gen%':>6}{'other%':>6}"
        f"{'errs':>6}"
    )


def _two_levels(one: int, levels: list[int], cap: int) -> list[int]:
    """The one-process levels up to its result, then the goal (1.8×) and beyond
    (2.4×): the same steps, so the two ramps compare level by level."""
    if one == 0:
        return levels[:2]
    goal = math.ceil(TWO_PROCESS_GOAL * one / 50) * 50
    wanted = {level for level in levels if level <= one} | {goal, one * 12 // 5}
    return sorted(level for level in wanted if level <= cap)


def cpu_projection(one: dict[str, Any], two: dict[str, Any]) -> dict[str, Any] | None:
    """Server CPU per session, one process against two, at the highest level both
    held: what a second process adds when each has a core of its own. Redis (the
    message queue and presence) is the difference. A projection, not a
    measurement: it assumes the servers are CPU-bound and the load generators and
    PostgreSQL run elsewhere."""
    held_one = {r["sessions"]: r for r in one.get("levels", []) if r["held"]}
    common = [
        r for r in two.get("levels", []) if r["held"] and r["sessions"] in held_one
    ]
    if not common:
        return None
    level = max(r["sessions"] for r in common)
    cost_one = sum(held_one[level]["server_cpu_pct"]) / level
    cost_two = (
        sum(next(r for r in common if r["sessions"] == level)["server_cpu_pct"]) / level
    )
    return {
        "sessions": level,
        "server_cpu_pct_per_1000_sessions": {
            "one_process": round(cost_one * 1000, 1),
            "two_processes": round(cost_two * 1000, 1),
        },
        "projected_ratio_two_to_one": round(2 * cost_one / cost_two, 2),
    }


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="250,500,1000,1500,2000,3000,4000")
    parser.add_argument("--window", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--no-two", action="store_true", help="skip the two-process ramp"
    )
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--two-levels", default="", help="two-process levels (default: from one's)"
    )
    parser.add_argument(
        "--one-result",
        type=int,
        default=0,
        help="skip the one-process ramp and take this as its result",
    )
    parser.add_argument(
        "--chat-gap",
        type=float,
        default=_load.CHAT_MEAN_GAP_S,
        help="mean seconds between chat messages per socket (0 = no chat)",
    )
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    two_given = [int(x) for x in args.two_levels.split(",") if x]
    cap = max([*levels, *two_given]) * 12 // 5
    report: dict[str, Any] = {
        "benchmark": "live sessions held with relay p99 < 50 ms (gevent, PostgreSQL)",
        "machine": describe(),
        "load_per_session": {
            "sockets": 2,
            "quality_every_s": _load.QUALITY_EVERY_S,
            "chat_mean_gap_s_per_socket": args.chat_gap,
            "probe_pairs": PROBE_PAIRS,
            "probe_rate_per_pair_hz": 1 / _load.PROBE_EVERY_S,
        },
        "window_s": args.window,
    }
    with Postgres() as pg:
        dyads = bulk_dyads(pg.url, cap + PROBE_PAIRS)
        probes, dyads = dyads[:PROBE_PAIRS], dyads[PROBE_PAIRS:]
        if args.one_result:
            one = {"max_sessions_held": args.one_result, "levels": [], "given": True}
        else:
            _header("one process")
            one = _phase(pg.url, [""], dyads, probes, levels, args)
            print_summary(one["profile_at_last_level"], "server profile, last level")
        report["one_process"] = one
        if not args.no_two:
            _header("two processes, Redis")
            two_levels = two_given or _two_levels(one["max_sessions_held"], levels, cap)
            two = _phase(pg.url, [REDIS_URL] * 2, dyads, probes, two_levels, args)
            report["two_processes"] = two
            print_summary(
                two["profile_at_last_level"], "first server's profile, last level"
            )
    return _finish(report)


def _phase(
    database_url: str,
    redis_urls: list[str],
    dyads: list[dict[str, str]],
    probes: list[dict[str, str]],
    levels: list[int],
    args: argparse.Namespace,
) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    env = {
        "TELETHERAPY_SIGNALING_PRESENCE_PREFIX": f"tt-bench-{tag}:",
        "TELETHERAPY_SIGNALING_CHANNEL": f"tt-bench-{tag}",
    }
    servers = [App(database_url=database_url, redis_url=r, env=env) for r in redis_urls]
    try:
        for server in servers:
            server.start()
        return ramp(
            servers,
            dyads,
            probes,
            levels,
            args.window,
            args.workers,
            not args.no_profile,
            args.chat_gap,
            make_url(database_url).database or "",
        )
    finally:
        for server in servers:
            server.stop()
        if any(redis_urls):
            _clean_redis(f"tt-bench-{tag}:")


def _clean_redis(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def _machine_bound(report: dict[str, Any]) -> None:
    """Say so when the whole machine was busy at the one-process limit: then a
    second server process has no core to add, and the measured ratio says more
    about the machine than about the deployment."""
    levels = report["one_process"].get("levels") or []
    if not levels:
        return
    top = levels[-1]["cpu_pct_of_one_core"]
    cores = os.cpu_count() or 1
    busy = top["machine"] / (100 * cores)
    report["machine_busy_at_one_process_limit"] = round(busy, 2)
    if busy >= 0.75:
        print(
            f"note: at the one-process limit the machine was {busy:.0%} busy "
            f"({cores} cores shared by the server, PostgreSQL and the load "
            f"generators); two processes cannot show their capacity here"
        )


def _finish(report: dict[str, Any]) -> dict[str, Any]:
    one = report["one_process"]["max_sessions_held"]
    report["one_process_goal"] = f">= {SESSIONS_GOAL} sessions"
    report["one_process_met"] = one >= SESSIONS_GOAL
    print(
        f"one process: {one} sessions held (goal >= {SESSIONS_GOAL}): "
        f"{'met' if one >= SESSIONS_GOAL else 'NOT met'}"
    )
    if "two_processes" in report:
        two = report["two_processes"]["max_sessions_held"]
        ratio = two / one if one else None
        report["ratio_two_to_one"] = ratio
        report["two_process_goal"] = f"ratio >= {TWO_PROCESS_GOAL}"
        report["two_process_met"] = ratio is not None and ratio >= TWO_PROCESS_GOAL
        shown = f"{ratio:.2f}" if ratio is not None else "n/a"
        print(
            f"two processes: {two} sessions held; ratio two/one {shown} "
            f"(goal >= {TWO_PROCESS_GOAL}): "
            f"{'met' if report['two_process_met'] else 'NOT met'}"
        )
        _machine_bound(report)
        projection = cpu_projection(report["one_process"], report["two_processes"])
        report["cpu_projection"] = projection
        if projection is not None:
            per = projection["server_cpu_pct_per_1000_sessions"]
            print(
                f"server CPU per 1,000 sessions at {projection['sessions']}: "
                f"{per['one_process']}% of a core in one process, "
                f"{per['two_processes']}% in two; projected two/one with a core "
                f"each: {projection['projected_ratio_two_to_one']:.2f} (not measured)"
            )
    write_results("load", report)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
