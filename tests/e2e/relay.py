"""coturn and the app inside the server namespace of :mod:`tests.e2e.netns`:
the pieces the relay tests, the browser relay tests and the relay bench share."""

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import LiveServer
from .netns import RelayNetwork

SECRET = "relay-test-secret-0123456789"
REALM = "teletherapy.test"


@dataclass
class Coturn:
    net: RelayNetwork
    log_path: Path
    port: int = 3478
    proc: subprocess.Popen | None = None  # type: ignore[type-arg]
    args: list[str] = field(default_factory=list)

    def start(self) -> "Coturn":
        binary = shutil.which("turnserver")
        if binary is None:
            pytest.fail(
                "coturn is missing: make test installs it (scripts/ensure-coturn)"
            )
        self.args = [
            binary,
            "-n",  # no configuration file: everything is on this line
            f"--listening-ip={self.net.server_for_a}",
            f"--listening-ip={self.net.server_for_b}",
            f"--listening-ip={self.net.server_for_test}",
            f"--relay-ip={self.net.server_for_a}",
            f"--listening-port={self.port}",
            "--use-auth-secret",
            f"--static-auth-secret={SECRET}",
            f"--realm={REALM}",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--fingerprint",
            "--log-file=stdout",
            "--simple-log",
            "--verbose",  # allocations are logged with their user name
            f"--userdb={self.log_path.parent / 'turndb'}",  # nothing under /var/lib
            f"--pidfile={self.log_path.parent / 'turnserver.pid'}",
        ]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*self.net.exec(self.net.server), *self.args],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while "listener opened on" not in self.log() and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"coturn exited: {self.log()[-2000:]}")
            time.sleep(0.05)
        return self

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class NamespacedServer(LiveServer):
    """`teletherapy serve` inside the server namespace, on all its addresses."""

    net: RelayNetwork

    @property
    def url(self) -> str:
        return f"http://{self.net.server_for_test}:{self.port}"

    def peer_url(self, peer: str) -> str:
        ip = self.net.server_for_a if peer == self.net.peer_a else self.net.server_for_b
        return f"http://{ip}:{self.port}"

    def serve_args(self) -> list[str]:
        return ["serve", "--host", "0.0.0.0", "--port", str(self.port)]  # noqa: S104

    def command(self) -> list[str]:
        return [*self.net.exec(self.net.server), *super().command()]
