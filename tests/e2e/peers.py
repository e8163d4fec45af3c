"""A Python WebRTC participant: aiortc media + python-socketio signaling through the server.

Every incoming signal goes through one queue and one worker, so a candidate is never
applied during setRemoteDescription; aiortc puts all its candidates in the SDP, so only
descriptions travel (docs/signaling.md, "Testing").
"""

import asyncio
import ssl
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack


@dataclass
class Peer:
    base_url: str
    token: str
    session_id: str
    polite: bool = False
    pc: RTCPeerConnection = field(default_factory=RTCPeerConnection)
    video_frames: int = 0
    audio_frames: int = 0
    echoes: list[str] = field(default_factory=list)
    events: list[tuple[str, Any]] = field(default_factory=list)
    joined: list[dict[str, Any]] = field(default_factory=list)
    connected_at: float | None = None
    # how the peer's HTTP and WebSocket connections are made: a TLS context that
    # trusts a test certificate, the source address to leave from (None: defaults)
    tls: ssl.SSLContext | None = None
    local_addr: str | None = None

    def __post_init__(self) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.consumers: list[asyncio.Future[None]] = []
        self.live = asyncio.Event()
        self.connected = asyncio.Event()
        self.ended = asyncio.Event()
        self.pc.addTrack(VideoStreamTrack())
        self.pc.addTrack(AudioStreamTrack())
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)
        self.pc.on("datachannel", self._on_datachannel)

    async def start(self) -> None:
        # Our own HTTP session, closed by close(): engine.io leaks its own on abrupt drops.
        connector = aiohttp.TCPConnector(
            ssl=self.tls if self.tls is not None else True,
            local_addr=(self.local_addr, 0) if self.local_addr else None,
        )
        self.http = aiohttp.ClientSession(connector=connector)
        self.sio = socketio.AsyncClient(
            reconnection=True,
            reconnection_delay=0.2,
            reconnection_delay_max=1,
            http_session=self.http,
        )
        self.sio.on("connect", self._on_connect, namespace="/rtc")
        self.sio.on("signal", self._on_signal, namespace="/rtc")
        for name in (
            "peer_joined",
            "peer_left",
            "chat",
            "replaced",
            "error",
            "session_ended",
        ):
            self.sio.on(name, self._recorder(name), namespace="/rtc")
        await self.sio.connect(
            self.base_url,
            namespaces=["/rtc"],
            transports=["websocket"],
            auth={"token": self.token},
            wait_timeout=10,
        )
        self.worker = asyncio.create_task(self._work())

    def _recorder(self, name: str):  # type: ignore[no-untyped-def]
        async def record(data: Any) -> None:
            self.events.append((name, data))
            if name == "peer_joined":
                self.live.set()
            if name == "session_ended":
                self.ended.set()

        return record

    async def _on_connect(self) -> None:
        # first connect and every automatic reconnect: (re)join the room
        ack = await self.sio.call(
            "join", {"session_id": self.session_id}, namespace="/rtc", timeout=10
        )
        self.joined.append({**ack, "at": time.monotonic()})
        if ack.get("ok") and ack["state"] == "live":
            self.live.set()

    async def _on_signal(self, data: dict[str, Any]) -> None:
        await self.inbox.put(data)

    async def _work(self) -> None:
        while True:
            data = await self.inbox.get()
            description = data.get("description")
            if description is None:
                continue  # trickled candidates: aiortc's own SDP carries all of ours
            await self.pc.setRemoteDescription(RTCSessionDescription(**description))
            if description["type"] == "offer":
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                await self.send_description()

    async def send_description(self) -> None:
        d = self.pc.localDescription
        ack = await self.sio.call(
            "signal",
            {
                "session_id": self.session_id,
                "description": {"type": d.type, "sdp": d.sdp},
            },
            namespace="/rtc",
            timeout=10,
        )
        assert ack["ok"], ack

    async def offer(self) -> None:
        channel = self.pc.createDataChannel("check")
        channel.on("message", lambda message: self.echoes.append(message))
        self.channel = channel
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.send_description()

    def _on_state(self) -> None:
        if self.pc.connectionState == "connected":
            self.connected_at = time.monotonic()
            self.connected.set()

    def _on_datachannel(self, channel) -> None:  # type: ignore[no-untyped-def]
        channel.on("message", lambda message: channel.send(f"echo:{message}"))

    def _on_track(self, track) -> None:  # type: ignore[no-untyped-def]
        self.consumers.append(asyncio.ensure_future(self._consume(track)))

    async def _consume(self, track) -> None:  # type: ignore[no-untyped-def]
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            if track.kind == "video":
                self.video_frames += 1
            else:
                self.audio_frames += 1

    async def chat(self, text: str, client_msg_id: str | None = None) -> dict[str, Any]:
        payload = {
            "session_id": self.session_id,
            "text": text,
            "client_msg_id": client_msg_id or str(uuid.uuid4()),
        }
        return await self.sio.call("chat", payload, namespace="/rtc", timeout=10)  # type: ignore[no-any-return]

    async def close(self) -> None:
        self.worker.cancel()
        await self.sio.disconnect()
        await self.pc.close()
        await self.http.close()


async def wait_for(predicate, timeout: float = 15, step: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(step)
