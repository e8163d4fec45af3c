"""Load-generator processes for bench.load_bench: asyncio python-socketio clients.

A *worker* holds many live sessions, two sockets each (therapist and client), and
plays them as real calls do: every socket sends a ``quality`` sample every 5 s and a
chat message at a human rate (exponential gaps, mean 30 s), and answers the
server's pings. A *probe* process holds a few extra pairs that relay ``signal``
ten times a second and time each relay from emit to the peer's receipt (both
sockets live in the probe process, so one clock measures both ends, and that
process has little else to do).

Each process is driven over a multiprocessing pipe with ``(command, argument)``
pairs and answers each with one value:

    ("add", [(url, token, session_id), ...])  → {"connected", "failed", "errors"}
    ("stats", reset: bool)                     → counters and ack latencies
    ("probe_add", [((url_a, token_a), (url_b, token_b), session_id), ...])
    ("probe", seconds)                          → relay latencies in ms
    ("stop", None)                              → None, then the process exits
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import socketio

NS = "/rtc"
QUALITY_EVERY_S = 5.0
CHAT_MEAN_GAP_S = 30.0
PROBE_EVERY_S = 0.1
CONNECT_CONCURRENCY = 20
ACK_TIMEOUT_S = 15.0
SAMPLE = {"rtt_ms": 42.0, "jitter_ms": 3.5, "packet_loss_pct": 0.4, "bitrate_kbps": 850}


class Stats:
    """Counters and ack latencies of one process, since the last reset."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.acks: dict[str, list[float]] = {"quality": [], "chat": []}

    def snapshot(self, reset: bool) -> dict[str, Any]:
        out = {"counts": dict(self.counts), "acks": self.acks}
        if reset:
            self.counts, self.acks = Counter(), {"quality": [], "chat": []}
        return out


class Sock:
    """One socket of a session."""

    def __init__(
        self, url: str, token: str, session_id: str, http: Any, stats: Stats
    ) -> None:
        self.url, self.token, self.session_id = url, token, session_id
        self.stats = stats
        self.closing = False
        self.pending: set[asyncio.Future[None]] = set()
        self.sio = socketio.AsyncClient(
            reconnection=False, http_session=http, handle_sigint=False
        )
        self.sio.on("disconnect", self._gone, namespace=NS)
        self.sio.on("chat", self._chat_in, namespace=NS)

    async def _gone(self, *_reason: object) -> None:
        if not self.closing:
            self.stats.counts["disconnected"] += 1

    async def _chat_in(self, _message: object) -> None:
        self.stats.counts["chat_received"] += 1

    async def open(self) -> None:
        await self.sio.connect(
            self.url,
            namespaces=[NS],
            transports=["websocket"],
            auth={"token": self.token},
            wait_timeout=30,
        )
        ack = await self.sio.call(
            "join", {"session_id": self.session_id}, namespace=NS, timeout=60
        )
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack.get('error', {}).get('code')}")

    async def live(self, rng: random.Random, chat_gap_s: float) -> None:
        """Quality every 5 s (first at a random offset) and chat now and then."""
        loop = asyncio.get_running_loop()
        next_quality = loop.time() + rng.uniform(0, QUALITY_EVERY_S)
        chatting = chat_gap_s > 0
        next_chat = loop.time() + (
            rng.expovariate(1 / chat_gap_s) if chatting else 1e12
        )
        while self.sio.connected and not self.closing:
            due = min(next_quality, next_chat)
            await asyncio.sleep(max(0.0, due - loop.time()))
            if loop.time() >= next_quality:
                next_quality += QUALITY_EVERY_S
                payload = {"session_id": self.session_id, **SAMPLE}
                self._spawn(self._send("quality", payload))
            if loop.time() >= next_chat:
                next_chat += rng.expovariate(1 / chat_gap_s)
                payload = {
                    "session_id": self.session_id,
                    "text": "How did that feel this week?",
                    "client_msg_id": str(uuid.uuid4()),
                }
                self._spawn(self._send("chat", payload))

    def _spawn(self, coro: Any) -> None:
        """Send without waiting for the ack (a browser does not either)."""
        task = asyncio.ensure_future(coro)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _send(self, event: str, payload: dict[str, Any]) -> None:
        start = time.perf_counter()
        try:
            ack = await self.sio.call(
                event, payload, namespace=NS, timeout=ACK_TIMEOUT_S
            )
        except socketio.exceptions.TimeoutError:
            self.stats.counts[f"{event}_timeout"] += 1
            return
        except socketio.exceptions.SocketIOError:
            self.stats.counts[f"{event}_unsent"] += 1
            return
        if isinstance(ack, dict) and ack.get("ok"):
            self.stats.counts[f"{event}_ok"] += 1
            self.stats.acks[event].append((time.perf_counter() - start) * 1000)
        else:
            code = ack.get("error", {}).get("code") if isinstance(ack, dict) else None
            self.stats.counts[f"{event}_error_{code}"] += 1

    async def close(self) -> None:
        self.closing = True
        await self.sio.disconnect()


class Worker:
    """State of one load-generator process."""

    def __init__(self, seed: int, chat_gap_s: float) -> None:
        self.chat_gap_s = chat_gap_s
        self.rng = random.Random(seed)
        self.stats = Stats()
        self.socks: list[Sock] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.http: aiohttp.ClientSession | None = None
        self.probes: list[tuple[Sock, Sock, dict[int, float], list[float]]] = []

    async def start(self) -> None:
        # no connection limit: every websocket holds one connection for its life
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def add(self, specs: list[tuple[str, str, str]]) -> dict[str, Any]:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        errors: Counter[str] = Counter()

        async def one(url: str, token: str, session_id: str) -> Sock | None:
            sock = Sock(url, token, session_id, self.http, self.stats)
            async with gate:
                try:
                    await sock.open()
                    return sock
                except Exception as exc:  # a load test counts failures, not raises
                    errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
                    return None

        opened = await asyncio.gather(*(one(*spec) for spec in specs))
        for sock in opened:
            if sock is not None:
                self.socks.append(sock)
                task = asyncio.create_task(sock.live(self.rng, self.chat_gap_s))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        failed = sum(1 for s in opened if s is None)
        return {
            "connected": len(opened) - failed,
            "failed": failed,
            "errors": dict(errors.most_common(5)),
        }

    async def probe_add(self, specs: list[Any]) -> dict[str, Any]:
        for (url_a, token_a), (url_b, token_b), session_id in specs:
            a = Sock(url_a, token_a, session_id, self.http, self.stats)
            b = Sock(url_b, token_b, session_id, self.http, self.stats)
            await a.open()
            await b.open()
            sent: dict[int, float] = {}
            got: list[float] = []

            def arrived(
                data: Any, sent: dict[int, float] = sent, got: list[float] = got
            ) -> None:
                seq = int(data["candidate"]["candidate"].split()[0].split(":")[1])
                if seq in sent:
                    got.append((time.perf_counter() - sent.pop(seq)) * 1000)

            b.sio.on("signal", arrived, namespace=NS)
            self.probes.append((a, b, sent, got))
        return {"pairs": len(self.probes)}

    async def probe(self, seconds: float) -> dict[str, Any]:
        """Relay latencies (ms) of every probe pair for ``seconds``; lost = not back in 5 s."""
        for _a, _b, sent, got in self.probes:
            sent.clear()
            got.clear()
        seq = 0
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        start = loop.time()
        while loop.time() < end:
            for a, _b, sent, _got in self.probes:
                seq += 1
                sent[seq] = time.perf_counter()
                candidate = f"candidate:{seq} 1 udp 2122260223 192.0.2.1 50000 typ host"
                body = {"candidate": candidate, "sdpMid": "0", "sdpMLineIndex": 0}
                await a.sio.emit(
                    "signal",
                    {"session_id": a.session_id, "candidate": body},
                    namespace=NS,
                )
            start += PROBE_EVERY_S
            await asyncio.sleep(max(0.0, start - loop.time()))
        await asyncio.sleep(5)  # stragglers
        latencies = [ms for *_rest, got in self.probes for ms in got]
        lost = sum(len(sent) for _a, _b, sent, _got in self.probes)
        return {"latencies_ms": latencies, "sent": seq, "lost": lost}

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        socks = self.socks + [s for a, b, *_ in self.probes for s in (a, b)]
        for sock in socks:
            sock.closing = True
        await asyncio.gather(
            *(asyncio.wait_for(s.close(), 5) for s in socks), return_exceptions=True
        )
        if self.http is not None:
            await self.http.close()


async def _serve(conn: Connection, seed: int, chat_gap_s: float) -> None:
    worker = Worker(seed, chat_gap_s)
    await worker.start()
    loop = asyncio.get_running_loop()
    while True:
        command, argument = await loop.run_in_executor(None, conn.recv)
        if command == "add":
            conn.send(await worker.add(argument))
        elif command == "stats":
            conn.send(worker.stats.snapshot(bool(argument)))
        elif command == "probe_add":
            conn.send(await worker.probe_add(argument))
        elif command == "probe":
            conn.send(await worker.probe(float(argument)))
        elif command == "stop":
            await worker.stop()
            conn.send(None)
            return


def run(conn: Connection, seed: int, chat_gap_s: float = CHAT_MEAN_GAP_S) -> None:
    """Process entry point (multiprocessing, spawn); ``chat_gap_s`` 0 = no chat."""
    asyncio.run(_serve(conn, seed, chat_gap_s))
