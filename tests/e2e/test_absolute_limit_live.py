"""A live call continues but never past the login's absolute maximum: the real server
closes the socket with `session_expired`, and the page says why, links to the sign-in
and does not reconnect (docs/security.md, row 21; docs/signaling.md `error`).

The server runs with SESSION_ABSOLUTE_HOURS a few seconds long (TELETHERAPY_* values
are JSON, so a float); the idle limit keeps its default of 30 minutes."""

import json
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from playwright.sync_api import Page, WebSocket

from .browser import login
from .conftest import LiveServer, World, upgrade_database

pytestmark = pytest.mark.e2e

LIMIT_HOURS = 0.006  # int(21.6 s): web_auth.login_deadline = login_at + 21
SECRET_KEY = "e2e-secret"  # LiveServer.env()
LATE_AT_MOST = 5.0  # the expiry sweep runs every 0.5 s; the page reacts at once
NO_RETRY_WATCH = 3.0  # s; the page would reconnect 1 s after a bare server disconnect


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """This module's own server: the same as conftest's, with a short absolute limit."""
    tmp = tmp_path_factory.mktemp("absolute")
    server = LiveServer(
        database_url=f"sqlite:///{tmp}/e2e.sqlite",
        extra_env={"TELETHERAPY_SESSION_ABSOLUTE_HOURS": json.dumps(LIMIT_HOURS)},
    )
    upgrade_database(server)
    server.start(tmp)
    yield server
    server.stop()


# The wall-clock time (as time.time()) the page showed why it stopped.
STOPPED_AT = """() => {
  const box = document.getElementById("stopped");
  new MutationObserver((_, observer) => {
    if (box.hidden) return;
    window.stoppedAt = Date.now() / 1000;
    observer.disconnect();
  }).observe(box, { attributes: true, attributeFilter: ["hidden"] });
}"""


def login_deadline(page: Page) -> int:
    """The server's deadline for this page's login: its signed (not encrypted)
    session cookie holds `login_at`; the limit is whole seconds, as on the server."""
    app = Flask(__name__)
    app.secret_key = SECRET_KEY
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    login_at = serializer.loads(cookie["value"])["login_at"]
    return int(login_at) + int(LIMIT_HOURS * 3600)


def join_live(
    browser, world: World, session: dict
) -> list[tuple[Page, list[WebSocket]]]:  # type: ignore[no-untyped-def, type-arg]
    """Both people on the call page, admitted: the call is live for both. Each
    page comes with the websockets it opened."""
    url = world.server.url
    pages = [login(browser, url, u) for u in (world.therapist, world.client)]
    watched = []
    for page in pages:
        sockets: list[WebSocket] = []
        page.on("websocket", lambda ws, s=sockets: s.append(ws))
        page.goto(url + session["join_url"])
        page.evaluate(STOPPED_AT)
        watched.append((page, sockets))
    therapist, client = pages
    client.get_by_test_id("join").click()
    client.get_by_test_id("waiting-room").wait_for(state="visible")
    therapist.get_by_test_id("admit").click()
    for page in pages:
        page.locator("#call[data-phase='stage']").wait_for(state="attached")
    return watched


def test_a_live_call_closes_at_the_absolute_limit_with_a_sign_in_link(
    browser, live_server, world
):
    session = world.schedule("chat")
    watched = join_live(browser, world, session)
    deadlines = [login_deadline(page) for page, _ in watched]
    spare = min(deadlines) - time.time()
    assert spare > 0, "joining took longer than the limit"

    late, opened = [], []
    for (page, sockets), deadline in zip(watched, deadlines, strict=True):
        stopped = page.locator("#stopped")
        stopped.wait_for(state="visible", timeout=(deadline - time.time() + 10) * 1000)
        late.append(page.evaluate("window.stoppedAt") - deadline)
        text = page.locator("#stopped-text").inner_text()
        assert "longest time allowed" in text and "Sign in again" in text
        link = page.locator("#stopped-action")
        assert link.inner_text() == "Sign in again"
        assert (link.get_attribute("href") or "").startswith("/login?next=")
        assert sockets, "the page never opened a socket"
        opened.append(len(sockets))
    # longer than the page's wait before it reconnects; Playwright delivers the
    # pages' events while it waits (time.sleep would hold them back)
    watched[0][0].wait_for_timeout(NO_RETRY_WATCH * 1000)
    for (page, sockets), before in zip(watched, opened, strict=True):
        assert len(sockets) == before, "the page connected again"
        assert sockets[-1].is_closed()
        status = page.locator("#connection-status").inner_text()
        assert "Reconnecting" not in status
    print(f"live {spare:.1f} s before the deadline; message after it: {late}")
    assert all(0 <= s < LATE_AT_MOST for s in late), late
