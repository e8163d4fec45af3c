"""docs/security.md, row 19: a participant whose network dies for 5, 30 or 90 s is back within 10 s.

The client runs in its own process and is frozen with SIGSTOP: no FIN, no pongs, exactly
like a dead network. The server notices on its own (ping timeout) for the long drops; the
other participant sees the client leave and come back once, never twice.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import socketio

from .conftest import ROOT

pytestmark = pytest.mark.e2e


class FrozenPeer:
    def __init__(self, url: str, token: str, session_id: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.frozen_peer", url, token, session_id],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.events: list[dict] = []  # type: ignore[type-arg]
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.events.append(json.loads(line))

    def joins_after(self, t: float) -> list[dict]:  # type: ignore[type-arg]
        return [e for e in self.events if e["event"] == "joined" and e["t"] >= t]

    def freeze(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.reader.join(timeout=5)  # reads to EOF
        self.proc.stdout.close()  # type: ignore[union-attr]


@pytest.mark.parametrize("outage", [5, 30, 90])
def test_participant_returns_within_ten_seconds_after_an_outage(
    live_server, world, outage
):
    session = world.schedule("video")

    async def scenario() -> None:
        therapist = socketio.AsyncClient(reconnection=False)
        seen: list[tuple[str, str]] = []
        for name in ("peer_joined", "peer_left"):
            therapist.on(
                name,
                lambda d, name=name: seen.append((name, d["user_id"])),
                namespace="/rtc",
            )
        await therapist.connect(
            live_server.url,
            namespaces=["/rtc"],
            transports=["websocket"],
            auth={"token": world.therapist["token"]},
        )
        await therapist.call("join", {"session_id": session["id"]}, namespace="/rtc")
        peer = FrozenPeer(live_server.url, world.client["token"], session["id"])
        try:
            while not peer.joins_after(0):
                await asyncio.sleep(0.05)
            peer.freeze()
            await asyncio.sleep(outage)
            thawed = time.time()
            peer.thaw()
            await asyncio.sleep(
                3
            )  # a dropped socket has noticed by now and is reconnecting
            dropped = any(e["event"] == "disconnected" for e in peer.events)
            if (
                dropped or outage >= 60
            ):  # past the ping timeout the server drops the dead socket
                deadline = time.monotonic() + 10
                while not peer.joins_after(thawed) and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                back = [e for e in peer.joins_after(thawed) if e["ok"]]
                assert back and back[0]["t"] - thawed < 10
                assert [p["user_id"] for p in back[0]["peers"]] == [
                    world.therapist["id"]
                ]
            await asyncio.sleep(1)
            # whatever happened, the client is in the room exactly once now
            ack = await therapist.call(
                "join", {"session_id": session["id"]}, namespace="/rtc"
            )
            assert [p["user_id"] for p in ack["peers"]] == [world.client["id"]]
            lefts = [s for s in seen if s[0] == "peer_left"]
            joins = [s for s in seen if s[0] == "peer_joined"]
            assert len(joins) - len(lefts) == 1  # present once, no ghost
        finally:
            peer.stop()
            await therapist.disconnect()

    asyncio.run(scenario())
