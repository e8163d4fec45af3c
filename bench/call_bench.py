"""(3) Both joined → both `connected`: two aiortc peers through /rtc ÷ the same peers in process.

Through the server: the therapist and the client are connected to `teletherapy serve`
(gevent, its own process) and have both joined; the clock starts when the second join
is acknowledged. The therapist (impolite) creates an offer and sets it locally (aiortc
gathers its candidates there), the offer is relayed as `signal`, the client sets it,
answers, sets its answer and relays it back; the clock stops when both peer
connections report `connected` (ICE and DTLS done).

Baseline: the same two peers, the same tracks (one audio, one video), the same
offer/answer steps, with each description handed to the other peer in process.
The two variants alternate; medians are compared. Goal: ratio <= 1.1.

ICE runs on 127.0.0.1 only (aiortc offers no loopback candidates by itself; the bench
makes it, for both variants) and without STUN servers, so nothing leaves the machine.

    python -m bench.call_bench [--repeats 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

import aiohttp
import aioice.ice
import socketio
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from bench._machine import describe, write_results
from bench._servers import App, prepare_database

NS = "/rtc"
GOAL = 1.1


def _loopback_only(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return ["127.0.0.1"] if use_ipv4 else []


def _peer() -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(AudioStreamTrack())
    pc.addTrack(VideoStreamTrack())
    return pc


def _connected(pc: RTCPeerConnection) -> asyncio.Event:
    done = asyncio.Event()

    @pc.on("connectionstatechange")
    def _state() -> None:
        if pc.connectionState == "connected":
            done.set()

    return done


async def _close(*pcs: RTCPeerConnection) -> None:
    await asyncio.gather(*(pc.close() for pc in pcs))


async def in_process() -> float:
    """Milliseconds from start to both connected, descriptions handed over directly."""
    offerer, answerer = _peer(), _peer()
    ready = [_connected(offerer), _connected(answerer)]
    start = time.perf_counter()
    await offerer.setLocalDescription(await offerer.createOffer())
    offer = offerer.localDescription
    await answerer.setRemoteDescription(RTCSessionDescription(offer.sdp, offer.type))
    await answerer.setLocalDescription(await answerer.createAnswer())
    answer = answerer.localDescription
    await offerer.setRemoteDescription(RTCSessionDescription(answer.sdp, answer.type))
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready)), 30)
    elapsed = (time.perf_counter() - start) * 1000
    await _close(offerer, answerer)
    return elapsed


class Side:
    """One participant: a socket and a peer connection; signals go through one queue."""

    def __init__(self, url: str, token: str, session_id: str, http: Any) -> None:
        self.url, self.token, self.session_id = url, token, session_id
        self.pc = _peer()
        self.ready = _connected(self.pc)
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sio = socketio.AsyncClient(reconnection=False, http_session=http)
        self.sio.on("signal", self.inbox.put, namespace=NS)

    async def open(self) -> dict[str, Any]:
        await self.sio.connect(
            self.url,
            namespaces=[NS],
            transports=["websocket"],
            auth={"token": self.token},
        )
        return await self.join()

    async def join(self) -> dict[str, Any]:
        ack = await self.sio.call("join", {"session_id": self.session_id}, namespace=NS)
        assert ack["ok"], ack
        return dict(ack)

    async def send(self) -> None:
        d = self.pc.localDescription
        body = {
            "session_id": self.session_id,
            "description": {"type": d.type, "sdp": d.sdp},
        }
        ack = await self.sio.call("signal", body, namespace=NS)
        assert ack["ok"], ack

    async def answer(self) -> None:
        data = await self.inbox.get()
        offer = data["description"]
        await self.pc.setRemoteDescription(RTCSessionDescription(**offer))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.send()

    async def take_answer(self) -> None:
        data = await self.inbox.get()
        await self.pc.setRemoteDescription(RTCSessionDescription(**data["description"]))


async def through_server(url: str, dyad: dict[str, str], http: Any) -> float:
    """Milliseconds from both joined to both connected, through /rtc."""
    therapist = Side(url, dyad["therapist_token"], dyad["session_id"], http)
    client = Side(url, dyad["client_token"], dyad["session_id"], http)
    await therapist.open()
    ack = await client.open()
    assert ack["state"] == "live", ack
    start = time.perf_counter()  # both joined
    answering = asyncio.create_task(client.answer())
    await therapist.pc.setLocalDescription(await therapist.pc.createOffer())
    await therapist.send()
    await answering
    await therapist.take_answer()
    ready = (therapist.ready.wait(), client.ready.wait())
    await asyncio.wait_for(asyncio.gather(*ready), 30)
    elapsed = (time.perf_counter() - start) * 1000
    await _close(therapist.pc, client.pc)
    for side in (therapist, client):
        await side.sio.call("leave", {"session_id": dyad["session_id"]}, namespace=NS)
        await side.sio.disconnect()
    return elapsed


async def run(
    url: str, dyads: list[dict[str, str]], repeats: int
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"server": [], "in_process": []}
    async with aiohttp.ClientSession() as http:
        await in_process()  # warm-up: codecs, DTLS certificates, imports
        await through_server(url, dyads[-1], http)
        for i in range(repeats):
            order = ["server", "in_process"] if i % 2 == 0 else ["in_process", "server"]
            for name in order:
                if name == "server":
                    samples[name].append(await through_server(url, dyads[i], http))
                else:
                    samples[name].append(await in_process())
    return samples


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    aioice.ice.get_host_addresses = _loopback_only
    app = App()
    dyads = prepare_database(app.database_url, dyads=args.repeats + 1)
    app.start()
    try:
        samples = asyncio.run(run(app.url, dyads, args.repeats))
    finally:
        app.stop()
    return _finish(samples)


def _finish(samples: dict[str, list[float]]) -> dict[str, Any]:
    med = {k: statistics.median(v) for k, v in samples.items()}
    ratio = med["server"] / med["in_process"]
    report = {
        "benchmark": "both joined -> both connected, aiortc peers: through /rtc vs in process",
        "machine": describe(),
        "median_ms": med,
        "samples_ms": samples,
        "ratio": ratio,
        "goal": f"ratio <= {GOAL}",
        "met": ratio <= GOAL,
    }
    print(f"{'joined -> connected':<28}{'median ms':>10}{'min':>8}{'max':>8}{'n':>4}")
    for key, label in (
        ("server", "through /rtc"),
        ("in_process", "SDP handed in process"),
    ):
        v = samples[key]
        print(f"{label:<28}{med[key]:>10.1f}{min(v):>8.1f}{max(v):>8.1f}{len(v):>4}")
    verdict = "met" if report["met"] else "NOT met"
    print(f"{'ratio server/in-process':<28}{ratio:>10.2f}   goal <= {GOAL}: {verdict}")
    write_results("call", report)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
