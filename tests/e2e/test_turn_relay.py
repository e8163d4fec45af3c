"""A call that can only go through the TURN relay (docs/deploy.md, "TURN").

Two aiortc peers in two network namespaces that reach the server's namespace but not
each other; the app and a real coturn (Debian's package, `use-auth-secret` with the
app's TURN_SECRET) run in the server's namespace. Passes when the call connects with a
`relay` candidate pair, media flows both ways, and coturn logged the allocation under
the `<expiry>:<user id>` name the app issued; a control run without TURN never
connects (the direct path really is blocked), and coturn refuses credentials made with
a wrong secret or past their expiry.
"""

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from aioice import turn
from aioice.stun import TransactionFailed

from teletherapy.services.ice import ice_servers

from .conftest import ROOT, World, free_port, make_world, upgrade_database
from .netns import RelayNetwork, relay_only_network
from .relay import SECRET, Coturn, NamespacedServer


@pytest.fixture(scope="module")
def relay_world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RelayNetwork, Coturn, World]]:
    tmp = tmp_path_factory.mktemp("relay")
    with relay_only_network() as net:
        coturn = Coturn(net, tmp / "coturn.log").start()
        server = NamespacedServer(
            database_url=f"sqlite:///{tmp}/relay.sqlite",
            port=free_port(),
            extra_env={
                "TELETHERAPY_TURN_SECRET": SECRET,
                "TELETHERAPY_TURN_URLS": json.dumps(
                    [f"turn:{net.server_for_a}:{coturn.port}?transport=udp"]
                ),
            },
        )
        server.net = net
        try:
            upgrade_database(server)
            server.start(tmp)
            yield net, coturn, make_world(server)
        finally:
            server.stop()
            coturn.stop()


def _call(
    net: RelayNetwork, world: World, seconds: float, *, turn_on: bool = True
) -> tuple[dict, dict]:  # type: ignore[type-arg]
    session = world.schedule("video")
    server = world.server
    assert isinstance(server, NamespacedServer)
    procs = []
    for namespace, person, role in (
        (net.peer_a, world.therapist, "offer"),
        (net.peer_b, world.client, "answer"),
    ):
        args = [
            server.peer_url(namespace),
            person["token"],
            session["id"],
            role,
            str(seconds),
        ]
        if not turn_on:
            args.append("--no-turn")
        procs.append(
            subprocess.Popen(
                [
                    *net.exec(namespace),
                    sys.executable,
                    "-m",
                    "tests.e2e.relay_peer",
                    *args,
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        assert proc.returncode == 0 and lines, f"peer failed: {err[-3000:]}"
        results.append(json.loads(lines[-1]))
    return results[0], results[1]


def test_a_call_between_hosts_that_cannot_reach_each_other_goes_through_the_relay(
    relay_world,
) -> None:  # type: ignore[no-untyped-def]
    net, coturn, world = relay_world
    therapist, client = _call(net, world, seconds=2.0)
    assert therapist["connected"] and client["connected"], (therapist, client)
    assert therapist["pair"] and client["pair"], (therapist, client)
    # The only pair that works is through the relay, on both sides.
    assert "relay" in therapist["pair"] or "relay" in client["pair"], (
        therapist,
        client,
    )
    # Media flowed both ways through it.
    assert therapist["video_frames"] > 10 and client["video_frames"] > 10
    assert therapist["audio_frames"] > 10 and client["audio_frames"] > 10
    # coturn allocated under the names the app issued: "<expiry>:<user id>".
    for person, result in ((world.therapist, therapist), (world.client, client)):
        name = result["turn_username"]
        expiry, _, user_id = name.partition(":")
        assert user_id == person["id"] and int(expiry) > time.time()
        assert name in coturn.log(), f"no allocation for {name} in coturn's log"


def test_without_turn_the_same_hosts_never_connect(relay_world) -> None:  # type: ignore[no-untyped-def]
    """The control: the direct path really is blocked."""
    net, _coturn, world = relay_world
    therapist, client = _call(net, world, seconds=0.5, turn_on=False)
    assert not therapist["connected"] and not client["connected"], (therapist, client)


async def _allocate(server: tuple[str, int], username: str, password: str) -> None:
    transport, _protocol = await turn.create_turn_endpoint(
        asyncio.DatagramProtocol,
        server_addr=server,
        username=username,
        password=password,
        lifetime=60,
    )
    transport.close()


def test_coturn_refuses_a_wrong_secret_and_an_expired_credential(relay_world) -> None:  # type: ignore[no-untyped-def]
    net, coturn, world = relay_world
    server = (net.server_for_test, coturn.port)
    urls = [f"turn:{net.server_for_test}:{coturn.port}"]

    def credential(secret: str, now: float) -> tuple[str, str]:
        (entry,) = ice_servers(
            {"TURN_SECRET": secret, "TURN_URLS": urls, "TURN_TTL_SECONDS": 600},
            world.client["id"],
            now=now,
        )
        return entry["username"], entry["credential"]

    asyncio.run(_allocate(server, *credential(SECRET, time.time())))  # the control
    for secret, now in (("not-the-secret", time.time()), (SECRET, time.time() - 3600)):
        with pytest.raises(TransactionFailed):
            asyncio.run(_allocate(server, *credential(secret, now)))
