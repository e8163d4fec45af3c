"""Two aiortc peers, as therapist and client with API tokens, call through the real server."""

import asyncio
from typing import Any

import pytest

from .peers import Peer, wait_for

pytestmark = pytest.mark.e2e


async def call(  # type: ignore[no-untyped-def]
    base_therapist: str,
    base_client: str,
    world,
    therapist_options: dict[str, Any] | None = None,
    client_options: dict[str, Any] | None = None,
) -> tuple[Peer, Peer]:
    """A video call between two aiortc peers; the options go to each `Peer`
    (e.g. `tls`, `local_addr`)."""
    session = world.schedule("video")
    therapist = Peer(
        base_therapist,
        world.therapist["token"],
        session["id"],
        **(therapist_options or {}),
    )
    client = Peer(
        base_client,
        world.client["token"],
        session["id"],
        polite=True,
        **(client_options or {}),
    )
    await client.start()
    await therapist.start()
    await asyncio.wait_for(therapist.live.wait(), 10)
    await therapist.offer()  # the impolite side offers; aiortc has no negotiationneeded
    await asyncio.wait_for(
        asyncio.gather(therapist.connected.wait(), client.connected.wait()), 20
    )
    return therapist, client


async def check_media_and_data(therapist: Peer, client: Peer) -> None:
    await wait_for(
        lambda: min(therapist.video_frames, client.video_frames) >= 30, timeout=20
    )
    await wait_for(
        lambda: min(therapist.audio_frames, client.audio_frames) >= 10, timeout=10
    )
    await wait_for(lambda: therapist.channel.readyState == "open", timeout=10)
    therapist.channel.send("ping-123")
    await wait_for(lambda: "echo:ping-123" in therapist.echoes, timeout=10)


def test_aiortc_peers_connect_and_exchange_media_and_data(live_server, world):
    async def scenario() -> None:
        therapist, client = await call(live_server.url, live_server.url, world)
        try:
            assert (
                client.joined[0]["state"] == "waiting"
            )  # the client came first: waiting room
            assert (
                client.joined[0]["polite"] is True
                and therapist.joined[0]["polite"] is False
            )
            assert therapist.joined[0]["state"] == "live"
            await check_media_and_data(therapist, client)
        finally:
            await therapist.close()
            await client.close()

    asyncio.run(scenario())
