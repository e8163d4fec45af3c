"""`teletherapy serve --host H --port P` as a new user runs it: no HOST/PORT set."""

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from playwright.sync_api import Page

from .conftest import CLI, ROOT, LiveServer


@dataclass
class PlainServer(LiveServer):
    """A development server whose address comes from its flags alone."""

    host: str = "127.0.0.1"

    def env(self) -> dict[str, str]:
        env = super().env()
        for name in ("HOST", "PORT"):
            env.pop(name, None)
        env["TELETHERAPY_ENV"] = "development"
        return env

    def start(self, log_dir: Path) -> "PlainServer":
        self.log_path = log_dir / f"plain-{self.port}.log"
        args = ["serve", "--host", self.host, "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*CLI, *args],
                env=self.env(),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited: {self.log_path.read_text()[-3000:]}"
                )
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("server did not answer /healthz within 30 s")


def keep_screenshot(page: Page, name: str) -> None:
    """With E2E_SCREENSHOTS=<folder>, keep a picture of the page for a human to look at."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"))
