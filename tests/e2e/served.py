"""`teletherapy serve --host H --port P` as a new user runs it: no HOST/PORT set."""

import os
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

from .conftest import LiveServer


@dataclass
class PlainServer(LiveServer):
    """A development server whose address comes from its flags alone."""

    host: str = "127.0.0.1"

    def env(self) -> dict[str, str]:
        env = super().env()
        for name in ("HOST", "PORT"):
            env.pop(name, None)
        env["TELETHERAPY_ENV"] = "development"
        # these tests open the join link for the call page: no outcome questionnaire
        # first (development asks PHQ-9 and GAD-7; tests/e2e/test_outcome_flag_browser.py
        # covers that page)
        env["TELETHERAPY_OUTCOME_MEASURES"] = "[]"
        return env

    def serve_args(self) -> list[str]:
        return ["serve", "--host", self.host, "--port", str(self.port)]


def keep_screenshot(page: Page, name: str) -> None:
    """With E2E_SCREENSHOTS=<folder>, keep a picture of the page for a human to look at."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"))
