"""A participant in its own process, so a test can freeze it (SIGSTOP) like a dead network.

Prints one JSON line per event: {"event": ..., "t": time.time(), ...}.
Usage: python -m tests.e2e.frozen_peer URL TOKEN SESSION_ID
"""

import asyncio
import json
import sys
import time

import socketio


def say(event: str, **data: object) -> None:
    print(json.dumps({"event": event, "t": time.time(), **data}), flush=True)


async def main(url: str, token: str, session_id: str) -> None:
    sio = socketio.AsyncClient(
        reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1
    )

    @sio.on("connect", namespace="/rtc")
    async def on_connect() -> None:
        ack = await sio.call(
            "join", {"session_id": session_id}, namespace="/rtc", timeout=10
        )
        say("joined", ok=ack.get("ok"), state=ack.get("state"), peers=ack.get("peers"))

    @sio.on("disconnect", namespace="/rtc")
    async def on_disconnect(*_: object) -> None:
        say("disconnected")

    await sio.connect(
        url, namespaces=["/rtc"], transports=["websocket"], auth={"token": token}
    )
    while True:
        await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
