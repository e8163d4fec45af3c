"""Playwright helpers: Debian's Chromium with fake media, one context per person."""

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Browser, Page

from .conftest import CHROMIUM, CHROMIUM_ARGS


def launch(playwright) -> Browser:  # type: ignore[no-untyped-def]
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def login(browser: Browser, base_url: str, user: dict[str, str]) -> Page:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(base_url + "/login")
    page.get_by_test_id("login-email").fill(user["email"])
    page.get_by_test_id("login-password").fill(user["password"])
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def poll(
    page: Page, script: str, until: Callable[[Any], bool], timeout: float = 20
) -> Any:
    """Evaluate `script` (which may return a promise) until `until(value)` holds."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if until(value):
            return value
        time.sleep(0.25)
    raise AssertionError(f"condition not met within {timeout} s; last value {value!r}")


DIAGNOSTICS = (
    "() => window.callDiagnostics ? window.callDiagnostics() : {pcState: 'none'}"
)
