"""(5) Offer → both `connected`: aiortc peers through the TURN relay ÷ the same peers direct.

The network is the one of the relay tests (tests/e2e/netns.py): peer A and peer B in
namespaces of their own, each with one link to a server namespace where `teletherapy
serve` and Debian's coturn run (tests/e2e/relay.py). One network, one server, one coturn
for the whole run; each call is two fresh processes (`python -m tests.e2e.relay_peer`,
one per peer namespace) on a newly scheduled session, and the two variants differ only in
two things:

- direct: the server namespace forwards (A reaches B, routed through it) and the peers
  use no ICE server, so their pair is host/host (checked: no `relay` candidate in it);
- relay: the server namespace forwards nothing and the peers use the TURN server the
  app's join ack gives them, so the only pair that works is through coturn (checked:
  a `relay` candidate in it).

The clock starts when the offerer begins its offer (createOffer; aiortc gathers its
candidates, TURN allocation included, in setLocalDescription) and stops when the second
peer reports `connectionState == "connected"` (ICE and DTLS done); both peers stamp
`time.monotonic()`, one clock for every process on the machine. Process start, imports,
the Socket.IO connect and the join are outside it. One untimed call of each variant warms
up the server and coturn; then the variants alternate (ABBA) so drift hits both.
Reported: median and p90 of each, and the ratio relay ÷ direct of the medians
(goal <= 1.5) and of the p90s.

Needs root (network namespaces) and coturn (`make coturn`); prints why and skips
otherwise.

    python -m bench.relay_connect_bench [--calls 10] [--hold 0.3]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench._machine import PACKAGES, describe, write_results
from tests.e2e.netns import (
    RelayNetwork,
    can_make_namespaces,
    relay_only_network,
    set_forwarding,
)

GOAL = 1.5
ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("direct", "relay")
PEER = "tests.e2e.relay_peer"
# Where a call's time goes, between the stamps of the two peers.
PHASES = (
    "offer made",  # createOffer + setLocalDescription (gathering) on the offerer
    "offer relayed",  # through the app's /rtc to the answerer
    "answer made",  # setRemoteDescription, createAnswer, setLocalDescription
    "answer relayed, ICE, DTLS",  # until the second peer is connected
)


def why_not() -> str | None:
    """Why this machine cannot run the bench, or None."""
    why = can_make_namespaces()
    if why:
        return why
    if shutil.which("turnserver") is None:
        return "coturn's turnserver is missing (make coturn installs it)"
    return None


def coturn_version() -> str:
    out = subprocess.run(
        ["turnserver", "--version"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return (out.stdout or out.stderr).strip().splitlines()[0]


def call(net: RelayNetwork, world: Any, variant: str, hold: float) -> dict[str, Any]:
    """One call between two fresh peer processes; its timings and candidate pairs."""
    set_forwarding(net, variant == "direct")
    session = world.schedule("video")
    server = world.server
    procs = []
    for namespace, person, role in (
        (net.peer_a, world.therapist, "offer"),
        (net.peer_b, world.client, "answer"),
    ):
        args = [server.peer_url(namespace), person["token"], session["id"], role]
        args.append(str(hold))
        if variant == "direct":
            args.append("--no-turn")
        procs.append(
            subprocess.Popen(
                [*net.exec(namespace), sys.executable, "-m", PEER, *args],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outcomes = [_outcome(proc) for proc in procs]  # both ended before any raise
    failed = [error for result, error in outcomes if result is None]
    if failed:
        raise RuntimeError(f"{variant} call: peer failed: {failed[0]}")
    offerer, answerer = (result or {} for result, _error in outcomes)
    if not (offerer["connected"] and answerer["connected"]):
        raise RuntimeError(f"{variant} call did not connect: {offerer} {answerer}")
    pairs = [offerer.get("pair"), answerer.get("pair")]
    through_relay = any("relay" in (pair or []) for pair in pairs)
    if None in pairs or through_relay != (variant == "relay"):
        raise RuntimeError(f"{variant} call used the wrong candidate pair: {pairs}")
    end = max(offerer["connected_at"], answerer["connected_at"])
    marks = [
        offerer["negotiation_started_at"],
        offerer["described_at"],
        answerer["negotiation_started_at"],
        answerer["described_at"],
        end,
    ]
    phases = {
        name: (b - a) * 1000
        for name, a, b in zip(PHASES, marks[:-1], marks[1:], strict=True)
    }
    return {
        "ms": (end - marks[0]) * 1000,
        "phases_ms": phases,
        "offerer_pair": pairs[0],
        "answerer_pair": pairs[1],
    }


def _outcome(proc: subprocess.Popen[str]) -> tuple[dict[str, Any] | None, str]:
    """A peer's JSON line, or None and why not; the process has ended either way."""
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return None, f"exit {proc.returncode}: {err[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result, ""


def run(calls: int, hold: float) -> dict[str, list[dict[str, Any]]]:
    # Imported by name at run time: mypy checks bench/ strictly and would follow a
    # plain import into tests/e2e/conftest.py, which is not written for --strict.
    relay = importlib.import_module("tests.e2e.relay")
    conftest = importlib.import_module("tests.e2e.conftest")
    samples: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as tmp_name:
        tmp = Path(tmp_name)
        with relay_only_network() as net:
            coturn = relay.Coturn(net, tmp / "coturn.log").start()
            server = relay.NamespacedServer(
                database_url=f"sqlite:///{tmp}/relay.sqlite",
                port=conftest.free_port(),
                extra_env={
                    # Every call connects anew from the same two addresses, faster
                    # than the per-address limit of config/default.toml (30 a minute).
                    "TELETHERAPY_RTC_CONNECT_RATE_LIMIT": "1000 per minute",
                    "TELETHERAPY_TURN_SECRET": relay.SECRET,
                    "TELETHERAPY_TURN_URLS": json.dumps(
                        [f"turn:{net.server_for_a}:{coturn.port}?transport=udp"]
                    ),
                },
            )
            server.net = net
            try:
                server.cli("db", "upgrade")
                server.start(tmp)
                world = conftest.make_world(server)
                for variant in VARIANTS:  # warm-up, not counted
                    call(net, world, variant, hold)
                for i in range(calls):
                    order = VARIANTS if i % 2 == 0 else VARIANTS[::-1]
                    for variant in order:
                        sample = call(net, world, variant, hold)
                        samples[variant].append(sample)
                        print(
                            f"  {i + 1:>3} {variant:<7}{sample['ms']:>8.1f} ms  "
                            f"pair {'/'.join(sample['offerer_pair'])}",
                            flush=True,
                        )
            except RuntimeError:
                log = (
                    server.log_path.read_text(errors="replace")
                    if server.log_path
                    else ""
                )
                print(f"server log (end):\n{log[-3000:]}", file=sys.stderr)
                raise
            finally:
                server.stop()
                coturn.stop()
    return samples


def _pairs(sample: dict[str, Any]) -> str:
    """Both peers' selected pairs, local/remote candidate types."""
    return "/".join(sample["offerer_pair"]) + " | " + "/".join(sample["answerer_pair"])


def p90(values: list[float]) -> float:
    """The 90th percentile, linear between the closest ranks (numpy's default)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10, help="timed calls per variant")
    parser.add_argument(
        "--hold",
        type=float,
        default=0.3,
        help="seconds each call is held once connected",
    )
    args = parser.parse_args(argv)
    why = why_not()
    if why:
        print(f"skipped: {why}", flush=True)
        return {"skipped": why}
    machine = describe((*PACKAGES, "aioice"))
    machine["coturn"] = coturn_version()
    samples = run(args.calls, args.hold)
    return _finish(samples, machine)


def _finish(
    samples: dict[str, list[dict[str, Any]]], machine: dict[str, Any]
) -> dict[str, Any]:
    ms = {v: [s["ms"] for s in samples[v]] for v in VARIANTS}
    median = {v: statistics.median(ms[v]) for v in VARIANTS}
    tail = {v: p90(ms[v]) for v in VARIANTS}
    ratio = median["relay"] / median["direct"]
    ratio_p90 = tail["relay"] / tail["direct"]
    phases = {
        v: {n: statistics.median(s["phases_ms"][n] for s in samples[v]) for n in PHASES}
        for v in VARIANTS
    }
    pairs = {v: sorted({_pairs(s) for s in samples[v]}) for v in VARIANTS}
    report = {
        "benchmark": "offer -> both aiortc peers connected, across namespaces: "
        "through the TURN relay vs direct",
        "machine": machine,
        "median_ms": median,
        "p90_ms": tail,
        "samples_ms": ms,
        "median_phase_ms": phases,
        "pairs (offerer local/remote | answerer local/remote)": pairs,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "ratio": ratio,
        "ratio_p90": ratio_p90,
        "goal": f"ratio <= {GOAL}",
        "met": ratio <= GOAL,
    }
    print(
        f"{'offer -> connected':<22}{'median ms':>10}{'p90':>8}{'min':>8}{'max':>8}{'n':>4}"
    )
    for v in VARIANTS:
        values = ms[v]
        print(
            f"{v:<22}{median[v]:>10.1f}{tail[v]:>8.1f}"
            f"{min(values):>8.1f}{max(values):>8.1f}{len(values):>4}"
        )
    print(f"{'median of each phase':<28}" + "".join(f"{v:>10}" for v in VARIANTS))
    for name in PHASES:
        print(f"  {name:<26}" + "".join(f"{phases[v][name]:>10.1f}" for v in VARIANTS))
    for v in VARIANTS:
        print(f"pairs {v:<16}{', '.join(pairs[v])}")
    verdict = "met" if report["met"] else "NOT met"
    print(
        f"{'ratio relay/direct':<22}{ratio:>10.2f}{ratio_p90:>8.2f}"
        f"   goal (median) <= {GOAL}: {verdict}"
    )
    write_results("relay_connect", report)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
