"""Playwright helpers: Debian's Chromium with fake media, one context per person."""

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Browser, Page

from .conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, World


def launch(playwright) -> Browser:  # type: ignore[no-untyped-def]
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def login(
    browser: Browser, base_url: str, user: dict[str, str], **context_options: Any
) -> Page:
    context = browser.new_context(
        viewport={"width": 1200, "height": 800}, **context_options
    )
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    _record_console(page)
    page.goto(base_url + "/login")
    page.get_by_test_id("login-email").fill(user["email"])
    page.get_by_test_id("login-password").fill(user["password"])
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def join_both(
    browser: Browser, server: LiveServer, world: World, modality: str = "audio"
) -> tuple[dict[str, Any], list[Page]]:
    """Schedule a session, log both in, the client joins and the therapist admits.

    Returns the session and the pages as [client, therapist]."""
    session = world.schedule(modality)
    pages = [login(browser, server.url, u) for u in (world.client, world.therapist)]
    for page in pages:
        page.goto(server.url + session["join_url"])
    pages[0].get_by_test_id("join").click()
    pages[0].get_by_test_id("waiting-room").wait_for(state="visible")
    pages[1].get_by_test_id("admit").click()
    return session, pages


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
    raise AssertionError(
        f"condition not met within {timeout} s; last value {value!r}\n"
        + console_tail(page)
    )


_CONSOLE: dict[int, list[str]] = {}


def _record_console(page: Page) -> None:
    """Keep the page's console and errors so a failed wait can show them."""
    lines = _CONSOLE.setdefault(id(page), [])
    page.on("console", lambda m: lines.append(f"console.{m.type}: {m.text}"))
    page.on("pageerror", lambda e: lines.append(f"pageerror: {e}"))
    page.on("websocket", lambda ws: _record_socket(ws, lines))


def _record_socket(ws, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Socket.IO frames, cut short: which events went where, not their content."""
    ws.on("framesent", lambda f: lines.append(f"ws> {str(f)[:90]}"))
    ws.on("framereceived", lambda f: lines.append(f"ws< {str(f)[:90]}"))


def console_tail(page: Page, n: int = 40) -> str:
    lines = _CONSOLE.get(id(page), [])[-n:]
    return "browser console (last lines):\n" + "\n".join(lines or ["(nothing)"])


DIAGNOSTICS = (
    "() => window.callDiagnostics ? window.callDiagnostics() : {pcState: 'none'}"
)
