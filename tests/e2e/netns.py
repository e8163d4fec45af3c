"""Network namespaces for tests of real networks: hosts that reach a server but not
each other, so a call can only go through a TURN relay.

Topology of :func:`relay_only_network` (addresses exist only inside the namespaces
the test creates; everything is deleted afterwards, also on failure)::

    peer A 10.N.1.2 ── 10.N.1.1 ┐
                                server namespace (app + coturn), forwarding OFF
    peer B 10.N.2.2 ── 10.N.2.1 ┘
    this test 10.N.3.2 ── 10.N.3.1   (the test process reaches the app for set-up)

(N is drawn per run.)

A and B each reach every address of the server namespace (a host answers for all its
own addresses on any interface) but not each other: the server namespace does not
forward, so the only path between them is the relay.

``relay_only_network(forwarding=True)``, or :func:`set_forwarding` on a network already
made, turns forwarding on in the server namespace: then A and B reach each other
directly, routed through it (the relay connect bench's baseline, on the same namespaces).
"""

import os
import random
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

IP = shutil.which("ip") or "/usr/sbin/ip"


def _ip(*args: str) -> None:
    subprocess.run([IP, *args], check=True, capture_output=True, timeout=10)


def can_make_namespaces() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if shutil.which("ip") is None:
        return "iproute2's ip is missing"
    return None


@dataclass(frozen=True)
class RelayNetwork:
    server: str  # namespace names
    peer_a: str
    peer_b: str
    # 10.<octet>.1.0/24, .2.0/24 and .3.0/24: a random second octet per test run,
    # so two runs on one machine never share the test's own address
    octet: int = 77

    @property
    def server_for_a(self) -> str:
        return f"10.{self.octet}.1.1"

    @property
    def server_for_b(self) -> str:
        return f"10.{self.octet}.2.1"

    @property
    def server_for_test(self) -> str:
        return f"10.{self.octet}.3.1"

    @property
    def test_address(self) -> str:
        return f"10.{self.octet}.3.2"

    @property
    def a(self) -> str:
        return f"10.{self.octet}.1.2"

    @property
    def b(self) -> str:
        return f"10.{self.octet}.2.2"

    def exec(self, namespace: str) -> list[str]:
        """The command prefix that runs a program inside ``namespace``."""
        return [IP, "netns", "exec", namespace]


def set_forwarding(net: RelayNetwork, enabled: bool) -> None:
    """Whether the server namespace forwards between its links (A reaches B directly)."""
    subprocess.run(
        [
            *net.exec(net.server),
            "sysctl",
            "-q",
            "-w",
            f"net.ipv4.ip_forward={int(enabled)}",
        ],
        check=True,
        capture_output=True,
        timeout=10,
    )


@contextmanager
def relay_only_network(forwarding: bool = False) -> Iterator[RelayNetwork]:
    why = can_make_namespaces()
    if why:
        pytest.skip(why)
    tag = uuid.uuid4().hex[:6]
    net = RelayNetwork(
        server=f"tts{tag}",
        peer_a=f"tta{tag}",
        peer_b=f"ttb{tag}",
        octet=random.randint(64, 250),
    )
    host_veth = f"tth{tag}"
    try:
        for ns in (net.server, net.peer_a, net.peer_b):
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        # By default the server namespace forwards nothing between its links.
        set_forwarding(net, forwarding)
        for peer, server_ip, peer_ip, side in (
            (net.peer_a, net.server_for_a, net.a, "a"),
            (net.peer_b, net.server_for_b, net.b, "b"),
        ):
            _ip(
                "link",
                "add",
                f"tt{side}{tag}s",
                "type",
                "veth",
                "peer",
                "name",
                f"tt{side}{tag}p",
            )
            _ip("link", "set", f"tt{side}{tag}s", "netns", net.server)
            _ip("link", "set", f"tt{side}{tag}p", "netns", peer)
            _ip(
                "-n", net.server, "link", "set", f"tt{side}{tag}s", "name", f"eth{side}"
            )
            _ip("-n", peer, "link", "set", f"tt{side}{tag}p", "name", "eth0")
            _ip("-n", net.server, "addr", "add", f"{server_ip}/24", "dev", f"eth{side}")
            _ip("-n", peer, "addr", "add", f"{peer_ip}/24", "dev", "eth0")
            _ip("-n", net.server, "link", "set", f"eth{side}", "up")
            _ip("-n", peer, "link", "set", "eth0", "up")
            _ip("-n", peer, "route", "add", "default", "via", server_ip)
        # The test process's own link to the server namespace (set-up requests only).
        _ip("link", "add", host_veth, "type", "veth", "peer", "name", f"tt{tag}x")
        _ip("link", "set", f"tt{tag}x", "netns", net.server)
        _ip("-n", net.server, "link", "set", f"tt{tag}x", "name", "ethx")
        _ip("-n", net.server, "addr", "add", f"{net.server_for_test}/24", "dev", "ethx")
        _ip("-n", net.server, "link", "set", "ethx", "up")
        _ip("addr", "add", f"{net.test_address}/24", "dev", host_veth)
        _ip("link", "set", host_veth, "up")
        yield net
    finally:
        subprocess.run([IP, "link", "del", host_veth], capture_output=True, timeout=10)
        for ns in (net.server, net.peer_a, net.peer_b):
            subprocess.run([IP, "netns", "del", ns], capture_output=True, timeout=10)
