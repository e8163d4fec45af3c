"""The idle sign-out warns first (docs/security.md, row 7; static/js/idle.js).

A real server with SESSION_IDLE_MINUTES = 0.2 (12 s; TELETHERAPY_* values are
JSON, so a float) and SESSION_IDLE_WARNING_SECONDS = 5, and headless Chromium:
the dialog comes 5 s before the sign-out, "Stay signed in" (or Escape) keeps the
login past the first deadline, ignoring it ends on the sign-in page with the
server's reason, and an open call shows no dialog and outlives the idle limit."""

import json
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from playwright.sync_api import Page

from .browser import console_tail, join_both, login
from .conftest import LiveServer, World, make_user, make_world, upgrade_database
from .served import keep_screenshot

pytestmark = pytest.mark.e2e

IDLE_MINUTES = 0.2
IDLE = 12  # s
WARNING = 5  # s
DIALOG = "[data-testid=idle-dialog]"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """This module's own server: the same as conftest's, with a short idle limit."""
    tmp = tmp_path_factory.mktemp("idle")
    server = LiveServer(
        database_url=f"sqlite:///{tmp}/e2e.sqlite",
        extra_env={
            "TELETHERAPY_SESSION_IDLE_MINUTES": json.dumps(IDLE_MINUTES),
            "TELETHERAPY_SESSION_IDLE_WARNING_SECONDS": json.dumps(WARNING),
        },
    )
    upgrade_database(server)
    server.start(tmp)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> World:
    """One therapist and client for the module (making people takes seconds);
    each test signs them in afresh."""
    return make_world(live_server)


# Tells the test (context.expose_function) whenever a page opens the idle dialog.
WATCH_DIALOG = """document.addEventListener("DOMContentLoaded", () => {
  const dialog = document.getElementById("idle-dialog");
  if (!dialog) return;
  new MutationObserver(() => dialog.open && window.idleDialogOpened())
    .observe(dialog, { attributes: true, attributeFilter: ["open"] });
});"""


def _watched_login(browser, url: str, user: dict[str, str]):  # type: ignore[no-untyped-def]
    """A new browser context signed in as `user`, and the list of the page
    addresses where the idle dialog opened (kept across navigations)."""
    context = browser.new_context()
    opened: list[str] = []
    context.add_init_script(WATCH_DIALOG)
    page = context.new_page()
    context.expose_function("idleDialogOpened", lambda: opened.append(page.url))
    page.goto(url + "/login")
    page.get_by_test_id("login-email").fill(user["email"])
    page.get_by_test_id("login-password").fill(user["password"])
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(lambda u: "/login" not in u)
    return page, opened


def _deadline(page: Page) -> int:
    """When the server signs this page's login out (wall clock): the last
    activity it counted (`seen_at` in its signed, not encrypted, session cookie)
    plus the idle time, whole seconds as on the server."""
    app = Flask(__name__)
    app.secret_key = "e2e-secret"  # LiveServer.env()
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    return int(serializer.loads(cookie["value"])["seen_at"]) + IDLE


def _signed_in(page: Page) -> dict | None:  # type: ignore[type-arg]
    """The login's clock as the server tells it, from inside the page; None when
    signed out. Asking is not activity."""
    result: dict | None = page.evaluate(  # type: ignore[type-arg]
        """async () => {
          const r = await fetch("/session/remaining", { redirect: "manual" });
          return r.status === 200 ? r.json() : null;
        }"""
    )
    return result


def _sleep_until(page: Page, wall: float) -> None:
    """Wait in the page's event loop (time.sleep would hold its events back)."""
    page.wait_for_timeout(max(0.0, wall - time.time()) * 1000)


def test_the_warning_comes_first_and_stay_signed_in_keeps_the_login(
    browser, live_server, world
):
    page = login(browser, live_server.url, world.client)
    assert page.url.endswith("/client")
    deadline = _deadline(page)
    dialog = page.locator(DIALOG)
    assert dialog.is_hidden()

    dialog.wait_for(state="visible", timeout=IDLE * 1000)
    shown = time.time()
    assert deadline - WARNING - 1.5 <= shown < deadline, (shown, deadline)
    assert dialog.get_attribute("role") == "alertdialog"
    assert dialog.get_attribute("aria-modal") == "true"
    text = " ".join(page.locator("#idle-text").inner_text().split())
    assert text == (
        f"You will be signed out in {WARNING} seconds because nothing has "
        "happened for a while."
    )
    focused = page.evaluate("() => document.activeElement.dataset.testid")
    assert focused == "stay-signed-in", console_tail(page)
    assert page.get_by_test_id("idle-countdown").inner_text().startswith("0:0")
    keep_screenshot(page, "idle")  # with E2E_SCREENSHOTS=<folder>

    page.get_by_test_id("stay-signed-in").click()
    dialog.wait_for(state="hidden", timeout=2000)
    _sleep_until(page, deadline + 1.5)  # past the first deadline
    assert _signed_in(page), "signed out despite 'Stay signed in'"
    page.goto(live_server.url + "/client")
    assert page.url.endswith("/client"), page.url

    # Escape means "stay signed in" too (keyboard only)
    deadline = _deadline(page)
    dialog.wait_for(state="visible", timeout=IDLE * 1000)
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden", timeout=2000)
    _sleep_until(page, deadline + 1.5)
    page.goto(live_server.url + "/client")
    assert page.url.endswith("/client"), page.url


def test_ignoring_the_warning_ends_on_the_sign_in_page_with_the_reason(
    browser, live_server, world
):
    page, opened = _watched_login(browser, live_server.url, world.therapist)
    deadline = _deadline(page)
    page.locator(DIALOG).wait_for(state="visible", timeout=IDLE * 1000)
    assert opened == [live_server.url + "/therapist"]  # the watch sees it
    page.wait_for_url(lambda url: "/login" in url, timeout=(WARNING + 5) * 1000)
    assert time.time() >= deadline
    assert page.url.endswith("/login?next=%2Ftherapist"), page.url
    flash = page.locator(".flash").inner_text()
    assert "signed out because of inactivity" in flash
    assert _signed_in(page) is None
    page.context.close()


def test_sign_out_now_posts_the_sign_out(browser, live_server, world):
    page = login(browser, live_server.url, world.client)
    page.locator(DIALOG).wait_for(state="visible", timeout=IDLE * 1000)
    page.get_by_test_id("sign-out-now").click()
    page.wait_for_url("**/login", timeout=5000)
    assert "You are signed out." in page.locator(".flash").inner_text()


def test_another_tab_in_use_holds_the_warning_back(browser, live_server, world):
    """Tab A would warn 7 s after its load; tab B keeps the login alive (a call
    page's heartbeat, say) 3 s in. A asks the server before warning and waits."""
    page = login(browser, live_server.url, world.client)
    loaded = time.time()
    deadline = _deadline(page)
    other = page.context.new_page()
    other.goto(live_server.url + "/settings")
    _sleep_until(page, loaded + 3)
    assert other.evaluate("async () => (await fetch('/keepalive')).status") == 200
    # A's first warning time passes without a dialog ...
    _sleep_until(page, deadline - WARNING + 2)
    assert page.locator(DIALOG).is_hidden()
    # ... which comes in time for the login's real deadline (3 s later)
    page.locator(DIALOG).wait_for(state="visible", timeout=(WARNING + 2) * 1000)
    assert time.time() >= deadline - WARNING + 2
    _sleep_until(page, deadline + 1)  # A's first deadline: still signed in
    assert page.url.endswith("/client")
    assert _signed_in(page)


def test_an_open_call_shows_no_warning_and_outlives_the_idle_limit(
    browser, live_server, world
):
    _, pages = join_both(browser, live_server, world, "chat")
    for page in pages:
        page.locator("#call[data-phase='stage']").wait_for(state="attached")
        assert page.locator("body").get_attribute("data-idle-mode") == "call"
        assert page.locator(DIALOG).count() == 0  # the call page has none
    end = time.time() + 2.5 * IDLE
    while time.time() < end:
        for page in pages:
            assert page.locator("dialog[open], [role=alertdialog]").count() == 0
        pages[0].wait_for_timeout(1000)
    for page in pages:
        assert page.locator("#call").get_attribute("data-phase") == "stage"
        assert _signed_in(page), console_tail(page)
    # the chat still goes through the socket, which was never closed for idleness
    pages[0].get_by_test_id("chat-input").fill("still here")
    pages[0].get_by_test_id("chat-send").click()
    pages[1].get_by_test_id("chat-log").get_by_text("still here").wait_for(timeout=5000)


def test_the_dialog_fits_at_200_percent_zoom(browser, live_server, world):
    """A 1280 x 800 screen at 200 % zoom is a 640 x 400 CSS viewport."""
    context = browser.new_context(
        viewport={"width": 640, "height": 400}, device_scale_factor=2
    )
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.get_by_test_id("login-email").fill(world.client["email"])
    page.get_by_test_id("login-password").fill(world.client["password"])
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/client")
    dialog = page.locator(DIALOG)
    dialog.wait_for(state="visible", timeout=IDLE * 1000)
    box = dialog.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= 640
    stay = page.get_by_test_id("stay-signed-in").bounding_box()
    assert stay is not None and stay["x"] + stay["width"] <= 640
    keep_screenshot(page, "idle-zoom200")
    page.keyboard.press("Tab")  # focus stays inside the dialog
    inside = page.evaluate(
        "() => document.getElementById('idle-dialog').contains(document.activeElement)"
    )
    assert inside
    context.close()


def test_the_absolute_limit_first_ends_without_a_stay_button(browser, tmp_path):
    """When the login's absolute maximum comes before its idle time, no dialog
    offers to stay (staying cannot help): at the limit the page goes to the
    sign-in page, which says why."""
    server = LiveServer(
        database_url=f"sqlite:///{tmp_path}/e2e.sqlite",
        extra_env={
            "TELETHERAPY_SESSION_IDLE_MINUTES": json.dumps(IDLE_MINUTES),
            "TELETHERAPY_SESSION_IDLE_WARNING_SECONDS": json.dumps(WARNING),
            "TELETHERAPY_SESSION_ABSOLUTE_HOURS": json.dumps(0.003),  # 10 s
        },
    )
    upgrade_database(server)
    server.start(tmp_path)
    try:
        user = make_user(server, "client")
        page, opened = _watched_login(browser, server.url, user)
        limit = page.locator("body").get_attribute("data-idle-limit-left")
        assert int(limit or "0") < IDLE
        page.wait_for_url(lambda url: "/login" in url, timeout=15_000)
        assert page.locator(".flash").inner_text() == (
            "You were signed out because your session reached its time limit. "
            "Please sign in again."
        )
        assert opened == []
        page.context.close()
    finally:
        server.stop()
