"""Browsers on two networks that cannot reach each other (docs/deploy.md, "TURN").

Each Chromium runs inside its own network namespace (a wrapper executes Debian's
/usr/bin/chromium through `ip netns exec`; Playwright drives both from this process);
the app (HTTPS, as two computers need) and a real coturn run in the server's namespace,
which forwards nothing. So the call can only go through the relay, and what these
tests break is the real thing: coturn restarted, a network link down and up, lossy
links (netem), no relay at all.
"""

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from teletherapy.tls import self_signed

from .browser import DIAGNOSTICS, console_tail, login, poll
from .conftest import CHROMIUM, CHROMIUM_ARGS, World, free_port, make_world
from .netns import IP, RelayNetwork, relay_only_network
from .relay import SECRET, Coturn, NamespacedServer
from .served import keep_screenshot

pytestmark = pytest.mark.e2e

CONTEXT = {"ignore_https_errors": True}  # the test's own self-signed pair


@dataclass
class TlsNamespacedServer(NamespacedServer):
    """`teletherapy serve` over HTTPS inside the server namespace."""

    pair: Path | None = None

    @property
    def url(self) -> str:
        return f"https://{self.net.server_for_test}:{self.port}"

    @property
    def page_url(self) -> str:
        """What both browsers open (the server's address on peer A's link; peer B
        reaches it too, the server answers for all its addresses)."""
        return f"https://{self.net.server_for_a}:{self.port}"

    def serve_args(self) -> list[str]:
        assert self.pair is not None
        return [
            *super().serve_args(),
            *("--tls-cert", str(self.pair / "cert.pem")),
            *("--tls-key", str(self.pair / "key.pem")),
        ]


@dataclass
class RelayCall:
    net: RelayNetwork
    coturn: Coturn
    world: World
    server: TlsNamespacedServer
    plain: TlsNamespacedServer  # the same network without TURN
    plain_world: World
    browsers: dict[str, Browser]


def _wrapper(folder: Path, namespace: str) -> str:
    """An executable that starts Debian's Chromium inside `namespace`."""
    path = folder / f"chromium-in-{namespace}"
    path.write_text(f'#!/bin/sh\nexec {IP} netns exec {namespace} {CHROMIUM} "$@"\n')
    path.chmod(0o755)
    return str(path)


def _server(
    net: RelayNetwork, tmp: Path, name: str, pair: Path, turn: bool
) -> TlsNamespacedServer:
    port = free_port()
    env = {
        "TELETHERAPY_ALLOWED_ORIGINS": f'["https://{net.server_for_a}:{port}"]',
    }
    if turn:
        env["TELETHERAPY_TURN_SECRET"] = SECRET
        env["TELETHERAPY_TURN_URLS"] = f'["turn:{net.server_for_a}:3478?transport=udp"]'
    server = TlsNamespacedServer(
        database_url=f"sqlite:///{tmp}/{name}.sqlite", port=port, extra_env=env
    )
    server.net, server.pair = net, pair
    server.cli("db", "upgrade")
    return server


@pytest.fixture(scope="module")
def relay_call(
    tmp_path_factory: pytest.TempPathFactory, playwright: Any
) -> Iterator[RelayCall]:
    tmp = tmp_path_factory.mktemp("browser-relay")
    with relay_only_network() as net:
        coturn = Coturn(net, tmp / "coturn.log").start()
        self_signed([net.server_for_a, net.server_for_test], tmp / "pair")
        servers = [
            _server(net, tmp, "relay", tmp / "pair", turn=True),
            _server(net, tmp, "plain", tmp / "pair", turn=False),
        ]
        previous = os.environ.get("REQUESTS_CA_BUNDLE")
        os.environ["REQUESTS_CA_BUNDLE"] = str(tmp / "pair" / "cert.pem")
        browsers: dict[str, Browser] = {}
        try:
            for server in servers:
                server.start(tmp)
            for namespace in (net.peer_a, net.peer_b):
                browsers[namespace] = playwright.chromium.launch(
                    executable_path=_wrapper(tmp, namespace), args=CHROMIUM_ARGS
                )
            yield RelayCall(
                net,
                coturn,
                make_world(servers[0]),
                servers[0],
                servers[1],
                make_world(servers[1]),
                browsers,
            )
        finally:
            for b in browsers.values():
                b.close()
            for server in servers:
                server.stop()
            coturn.stop()
            if previous is None:
                os.environ.pop("REQUESTS_CA_BUNDLE", None)
            else:
                os.environ["REQUESTS_CA_BUNDLE"] = previous


def _start_call(
    rc: RelayCall, *, turn: bool = True, modality: str = "video"
) -> tuple[dict[str, Any], Page, Page]:
    """Therapist in namespace A, client in namespace B; both in the call.
    Returns the session and the pages (therapist, client)."""
    server, world = (rc.server, rc.world) if turn else (rc.plain, rc.plain_world)
    session = world.schedule(modality)
    therapist = login(
        rc.browsers[rc.net.peer_a], server.page_url, world.therapist, **CONTEXT
    )
    client = login(rc.browsers[rc.net.peer_b], server.page_url, world.client, **CONTEXT)
    for page in (therapist, client):
        page.goto(server.page_url + session["join_url"])
    client.get_by_test_id("join").click()
    client.get_by_test_id("waiting-room").wait_for(state="visible")
    therapist.get_by_test_id("admit").click()
    return session, therapist, client


def _media_flows(page: Page, timeout: float = 30) -> dict[str, Any]:
    first = poll(page, DIAGNOSTICS, lambda d: d.get("framesDecoded", 0) > 0, timeout)
    return poll(  # type: ignore[no-any-return]
        page,
        DIAGNOSTICS,
        lambda d: (
            d.get("pcState") == "connected"
            and d["framesDecoded"] > first["framesDecoded"]
        ),
        timeout,
    )


def _close(*pages: Page) -> None:
    for page in pages:
        page.context.close()


def test_the_pre_call_check_finds_the_relay(relay_call: RelayCall) -> None:
    rc = relay_call
    session = rc.world.schedule("video")
    page = login(
        rc.browsers[rc.net.peer_b], rc.server.page_url, rc.world.client, **CONTEXT
    )
    try:
        page.goto(rc.server.page_url + session["join_url"])
        check = page.get_by_test_id("relay-check")
        poll(
            page,
            "document.getElementById('relay-check').dataset.state",
            lambda s: s == "reachable",
        )
        assert "reachable" in check.inner_text()
        keep_screenshot(page, "precall-relay-check")
    finally:
        _close(page)


def test_a_browser_call_between_networks_goes_through_the_relay_and_survives_its_restart(
    relay_call: RelayCall,
) -> None:
    rc = relay_call
    _session, therapist, client = _start_call(rc)
    try:
        for page in (therapist, client):
            d = _media_flows(page)
            assert d["pair"] and "relay" in (d["pair"]["local"], d["pair"]["remote"]), d
            assert d["dtlsState"] == "connected", d
        pc_ids = [
            p.evaluate("document.getElementById('call').dataset.pcId")
            for p in (therapist, client)
        ]

        # The relay goes away and comes back empty (every allocation lost).
        rc.coturn.stop()
        poll(
            client,
            "document.getElementById('connection-status').textContent",
            lambda t: t.startswith("Reconnecting"),
            timeout=20,
        )
        keep_screenshot(client, "call-reconnecting")
        rc.coturn.start()
        back = time.monotonic()
        for page in (therapist, client):
            _media_flows(page, timeout=30)
        recovered = time.monotonic() - back
        print(f"recovered {recovered:.1f} s after the relay came back")
        restarts = [
            int(
                p.evaluate("document.getElementById('call').dataset.iceRestarts || '0'")
            )
            for p in (therapist, client)
        ]
        assert max(restarts) >= 1, restarts
        # The same peer connections: an ICE restart, not a rejoin.
        assert pc_ids == [
            p.evaluate("document.getElementById('call').dataset.pcId")
            for p in (therapist, client)
        ]
        assert client.get_by_test_id("connection-help").is_hidden()
    finally:
        _close(therapist, client)


def test_a_network_link_down_and_up_recovers_by_ice_restart(
    relay_call: RelayCall,
) -> None:
    rc = relay_call
    _session, therapist, client = _start_call(rc)
    try:
        for page in (therapist, client):
            _media_flows(page)
        pc_id = client.evaluate("document.getElementById('call').dataset.pcId")
        subprocess.run(
            [IP, "-n", rc.net.peer_b, "link", "set", "eth0", "down"], check=True
        )
        poll(
            client,
            "document.getElementById('connection-status').textContent",
            lambda t: t.startswith("Reconnecting"),
            timeout=20,
        )
        subprocess.run(
            [IP, "-n", rc.net.peer_b, "link", "set", "eth0", "up"], check=True
        )
        # A link that comes back has lost its routes, as after a real reconnection.
        subprocess.run(
            [
                IP,
                "-n",
                rc.net.peer_b,
                "route",
                "replace",
                "default",
                "via",
                rc.net.server_for_b,
            ],
            check=True,
        )
        for page in (therapist, client):
            _media_flows(page, timeout=30)
        assert client.evaluate("document.getElementById('call').dataset.pcId") == pc_id
    finally:
        _close(therapist, client)


def test_without_a_relay_the_page_says_which_part_failed_and_offers_chat(
    relay_call: RelayCall,
) -> None:
    """The browser control: with no TURN the two networks never connect, and after
    15 s each person is told why in words, and the chat still works."""
    rc = relay_call
    _session, therapist, client = _start_call(rc, turn=False)
    try:
        assert (
            client.evaluate("document.getElementById('relay-check').dataset.state")
            == "none"
        )
        help_box = client.get_by_test_id("connection-help")
        help_box.wait_for(state="visible", timeout=30000)
        assert help_box.get_attribute("data-part") == "ice"
        assert "no network path" in help_box.inner_text()
        keep_screenshot(client, "call-connection-help")
        assert client.evaluate(DIAGNOSTICS)["pcState"] != "connected"
        client.get_by_role("button", name="Continue in the chat").click()
        client.get_by_test_id("chat-input").fill("Can you read me?")
        client.get_by_test_id("chat-send").click()
        therapist.get_by_test_id("chat-toggle").click()
        therapist.get_by_test_id("chat-log").get_by_text("Can you read me?").wait_for(
            timeout=10000
        )
    finally:
        _close(therapist, client)


def _throttle(rc: RelayCall, rate: str | None) -> None:
    """A slow link both ways between peer B and the server (a token bucket; this
    kernel has no netem), or the normal link again."""
    for namespace, dev in ((rc.net.peer_b, "eth0"), (rc.net.server, "ethb")):
        args = ["tc", "qdisc", "replace" if rate else "del", "dev", dev, "root"]
        if rate:
            args += ["tbf", "rate", rate, "burst", "8kbit", "latency", "200ms"]
        out = subprocess.run(
            [IP, "netns", "exec", namespace, *args], capture_output=True, text=True
        )
        if rate and out.returncode != 0:
            pytest.fail(f"tc could not slow the link: {out.stderr.strip()}")


def test_a_slow_link_offers_audio_only_and_the_switch_is_recorded(
    relay_call: RelayCall,
) -> None:
    if shutil.which("tc") is None:
        pytest.skip("iproute2's tc is missing")
    rc = relay_call
    session, therapist, client = _start_call(rc)
    try:
        for page in (therapist, client):
            _media_flows(page)
        _throttle(rc, "100kbit")
        offer = client.get_by_test_id("bandwidth-offer")  # 3 weak samples: 15 s
        offer.wait_for(state="visible", timeout=45000)
        keep_screenshot(client, "call-bandwidth-offer")
        client.get_by_role("button", name="Switch to audio only").click()
        for page in (client, therapist):
            poll(
                page,
                "document.getElementById('call').dataset.audioOnly",
                lambda v: v == "true",
            )
        _throttle(rc, None)
        # Audio keeps flowing both ways; the video stops.
        for page in (client, therapist):
            before = page.evaluate(DIAGNOSTICS)
            poll(
                page,
                DIAGNOSTICS,
                lambda d, b=before: d["audioPackets"] > b["audioPackets"] + 20,
            )
        # Recorded with the quality numbers at the moment of the switch.
        db = Path(rc.server.database_url.removeprefix("sqlite:///"))
        with closing(
            sqlite3.connect(db)
        ) as con:  # `with connect()` alone keeps it open
            rows = con.execute(
                "SELECT audio_only, packet_loss_pct FROM quality_samples"
                " WHERE session_id = ? AND audio_only IS NOT NULL",
                (session["id"],),
            ).fetchall()
        assert rows and rows[0][0] == 1, rows
        # And back.
        client.get_by_test_id("audio-only-toggle").click()
        for page in (client, therapist):
            poll(
                page,
                "document.getElementById('call').dataset.audioOnly",
                lambda v: v == "false",
            )
    except AssertionError:
        print(console_tail(client, 80), console_tail(therapist, 80))
        raise
    finally:
        _throttle(rc, None)
        _close(therapist, client)
