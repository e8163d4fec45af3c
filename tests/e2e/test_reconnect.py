"""docs/security.md, rows 18 and 19: a dropped socket or a restarted server costs nothing.

The participant is back in the room within 10 s, chat history is intact, a resent
message is stored and delivered once, and nobody appears twice.
"""

import asyncio
import time

import pytest

from .conftest import LiveServer, make_world, upgrade_database
from .peers import Peer, wait_for
from .test_aiortc_call import call

pytestmark = pytest.mark.e2e


def _chat_events(peer: Peer, client_msg_id: str) -> list[dict]:  # type: ignore[type-arg]
    return [
        d
        for name, d in peer.events
        if name == "chat" and d["client_msg_id"] == client_msg_id
    ]


def _last_join(peer: Peer) -> dict:  # type: ignore[type-arg]
    ack = peer.joined[-1]
    assert ack["ok"], ack
    return ack


async def _rejoined_after(peer: Peer, t0: float, count: int) -> float:
    await wait_for(
        lambda: len(peer.joined) > count and peer.joined[-1].get("ok"), timeout=10
    )
    return peer.joined[-1]["at"] - t0


def test_dropped_socket_rejoins_without_loss_or_duplicates(live_server, world):
    async def scenario() -> None:
        therapist, client = await call(live_server.url, live_server.url, world)
        try:
            first = await client.chat("before the drop")
            assert first["ok"]
            msg_id = first["message"]["client_msg_id"]
            await wait_for(lambda: len(_chat_events(therapist, msg_id)) == 1)
            joins = len(client.joined)
            t0 = time.monotonic()
            await (
                client.sio.eio.ws.close()
            )  # the network drops the socket under the client
            assert await _rejoined_after(client, t0, joins) < 10
            ack = _last_join(client)
            assert [p["user_id"] for p in ack["peers"]] == [world.therapist["id"]]
            assert [m["text"] for m in ack["chat"]].count("before the drop") == 1
            again = await client.chat(
                "before the drop", client_msg_id=msg_id
            )  # a retry
            assert again["message"]["id"] == first["message"]["id"]
            await asyncio.sleep(0.5)
            assert len(_chat_events(therapist, msg_id)) == 1  # delivered once
            assert (
                client.pc.connectionState == "connected"
            )  # media never went through us
        finally:
            await therapist.close()
            await client.close()

    asyncio.run(scenario())


def test_second_connection_replaces_the_first_without_a_ghost(live_server, world):
    async def scenario() -> None:
        therapist, client = await call(live_server.url, live_server.url, world)
        second = Peer(
            live_server.url, world.client["token"], client.session_id, polite=True
        )
        try:
            await second.start()
            await wait_for(lambda: second.joined and second.joined[-1].get("ok"))
            await wait_for(lambda: any(name == "replaced" for name, _ in client.events))
            assert not any(name == "peer_left" for name, _ in therapist.events)
            assert [p["user_id"] for p in _last_join(second)["peers"]] == [
                world.therapist["id"]
            ]
        finally:
            for peer in (therapist, client, second):
                await peer.close()

    asyncio.run(scenario())


def test_server_restart_mid_call(tmp_path):
    server = LiveServer(database_url=f"sqlite:///{tmp_path}/restart.sqlite")
    upgrade_database(server)
    server.start(tmp_path)
    world = make_world(server)

    async def scenario() -> None:
        therapist, client = await call(server.url, server.url, world)
        try:
            sent = await client.chat("said before the restart")
            msg_id = sent["message"]["client_msg_id"]
            joins = (len(therapist.joined), len(client.joined))
            t0 = time.monotonic()
            server.kill()
            server.start(tmp_path)
            assert await _rejoined_after(therapist, t0, joins[0]) < 10
            assert await _rejoined_after(client, t0, joins[1]) < 10
            await wait_for(
                lambda: (
                    _last_join(client)["state"] == "live"
                    or _last_join(therapist)["state"] == "live"
                )
            )
            for peer in (therapist, client):
                history = [m["text"] for m in _last_join(peer)["chat"]]
                assert history.count("said before the restart") == 1
            late = (
                _last_join(client)
                if _last_join(client)["state"] == "live"
                else _last_join(therapist)
            )
            assert len(late["peers"]) == 1
            again = await client.chat("said before the restart", client_msg_id=msg_id)
            assert again["message"]["id"] == sent["message"]["id"]
            assert (
                therapist.pc.connectionState == "connected"
            )  # peer-to-peer media survived
        finally:
            await therapist.close()
            await client.close()

    try:
        asyncio.run(scenario())
    finally:
        server.stop()
