"""One aiortc participant, run inside a network namespace by tests/e2e/test_turn_relay.py
and bench/relay_connect_bench.py.

    python -m tests.e2e.relay_peer BASE_URL TOKEN SESSION_ID (offer|answer) SECONDS [--no-turn]

Joins the session through the app's signaling, builds its RTCPeerConnection from the
ICE servers of the join ack (the TURN credentials the app issues), holds the call for
SECONDS once connected, and prints one JSON line: whether it connected, the selected
candidate pair's types, frames received, the TURN user name it was given.

For the bench it also prints ``negotiation_started_at`` (the offerer: just before it
creates its offer; the answerer: when the offer arrives), ``described_at`` (its offer or
answer is set locally, candidates gathered, and about to be sent) and ``connected_at``
(``connectionState`` became ``connected``), all ``time.monotonic()``, one clock for every
process on the machine whatever its network namespace, and ``negotiation_seconds``,
from the first to the last.
"""

import asyncio
import json
import sys
import time
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from .peers import Peer


class RelayPeer(Peer):
    use_turn: bool = True
    ice: list[dict[str, Any]] | None = None
    negotiation_started_at: float | None = None
    described_at: float | None = None

    async def offer(self) -> None:
        self.negotiation_started_at = time.monotonic()
        await super().offer()

    async def send_description(self) -> None:
        if self.described_at is None:  # its description is made: candidates gathered
            self.described_at = time.monotonic()
        await super().send_description()

    async def _on_signal(self, data: dict[str, Any]) -> None:
        description = data.get("description") or {}
        if description.get("type") == "offer" and self.negotiation_started_at is None:
            self.negotiation_started_at = time.monotonic()
        await super()._on_signal(data)

    async def _on_connect(self) -> None:
        ack = await self.sio.call(
            "join", {"session_id": self.session_id}, namespace="/rtc", timeout=10
        )
        if self.ice is None and ack.get("ok"):
            self.ice = ack.get("ice_servers") or []
            servers = [
                RTCIceServer(
                    urls=s["urls"],
                    username=s.get("username"),
                    credential=s.get("credential"),
                )
                for s in (self.ice if self.use_turn else [])
            ]
            await self.pc.close()
            self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
            self.pc.addTrack(VideoStreamTrack())
            self.pc.addTrack(AudioStreamTrack())
            self.pc.on("track", self._on_track)
            self.pc.on("connectionstatechange", self._on_state)
            self.pc.on("datachannel", self._on_datachannel)
        self.joined.append({**ack, "at": time.monotonic()})
        if ack.get("ok") and ack["state"] == "live":
            self.live.set()

    async def _work(self) -> None:
        while self.ice is None:  # the offer waits for the connection built from the ack
            await asyncio.sleep(0.01)
        await super()._work()

    def selected_pair(self) -> list[str] | None:
        """Local and remote candidate types of the nominated pair (aiortc internals)."""
        for transceiver in self.pc.getTransceivers():
            ice = transceiver.receiver.transport.transport
            connection = getattr(ice, "_connection", None)
            if connection is None:
                continue
            pairs = list(connection._nominated.values()) or [
                p
                for p in connection._check_list
                if p.nominated and p.state.name == "SUCCEEDED"
            ]
            for pair in pairs:
                return [pair.local_candidate.type, pair.remote_candidate.type]
        return None


async def main(argv: list[str]) -> dict[str, Any]:
    base_url, token, session_id, role, seconds = argv[:5]
    peer = RelayPeer(base_url=base_url, token=token, session_id=session_id)
    peer.use_turn = "--no-turn" not in argv
    started = time.monotonic()
    await peer.start()
    result: dict[str, Any] = {"connected": False}
    try:
        await asyncio.wait_for(peer.live.wait(), 30)
        if role == "offer":
            await peer.offer()
        try:
            await asyncio.wait_for(peer.connected.wait(), 20)
        except TimeoutError:
            result["state"] = peer.pc.connectionState
        else:
            result["connected"] = True
            connected_at = peer.connected_at or time.monotonic()
            result["connect_seconds"] = round(connected_at - started, 3)
            result["connected_at"] = connected_at
            result["negotiation_started_at"] = peer.negotiation_started_at
            result["described_at"] = peer.described_at
            if peer.negotiation_started_at is not None:
                result["negotiation_seconds"] = round(
                    connected_at - peer.negotiation_started_at, 4
                )
            await asyncio.sleep(float(seconds))
            result["pair"] = peer.selected_pair()
        result["video_frames"] = peer.video_frames
        result["audio_frames"] = peer.audio_frames
        turn = [s for s in peer.ice or [] if s.get("username")]
        result["turn_username"] = turn[0]["username"] if turn else None
    finally:
        await peer.close()
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1:]))), flush=True)
