"""The call page says in plain words why its socket was refused or closed, links to
what to do next, and stops reconnecting (docs/signaling.md refusal codes; docs/api.md says
what the call page shows for each).

Refusals the live server cannot be made to send on demand are injected by rewriting
the page's Socket.IO frames (Playwright's WebSocket routing); the rest is the real server."""

import re

import pytest
from playwright.sync_api import Page, WebSocketRoute

from .browser import login

pytestmark = pytest.mark.e2e

SOCKET_URL = re.compile(r"/socket\.io/")
CONNECT = "40/rtc,"  # engine.io message + Socket.IO CONNECT to /rtc


class Frames:
    """The page's socket, passed through to the server unless told otherwise."""

    def __init__(self, page: Page, refuse_connect_with: str | None = None) -> None:
        self.routes: list[WebSocketRoute] = []
        self.connects = 0
        self.refusal = refuse_connect_with
        page.route_web_socket(SOCKET_URL, self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        self.routes.append(ws)

        def from_page(message: str | bytes) -> None:
            if isinstance(message, str) and message.startswith(CONNECT):
                self.connects += 1
                if self.refusal:
                    ws.send(f'44/rtc,{{"message":"{self.refusal}"}}')
                    return
            server.send(message)

        ws.on_message(from_page)

    def from_server(self, frame: str) -> None:
        self.routes[-1].send(frame)


def _call_page(browser, live_server, world, **frames) -> tuple[Page, Frames]:  # type: ignore[no-untyped-def]
    """The client's call page; its socket frames pass through `Frames` (routing
    applies to pages loaded after it is set up)."""
    session = world.schedule("audio")
    page = login(browser, live_server.url, world.client)
    routed = Frames(page, **frames)
    page.goto(live_server.url + session["join_url"])
    return page, routed


def _notice(page: Page) -> tuple[str, str]:
    page.locator("#stopped").wait_for(state="visible", timeout=15_000)
    link = page.locator("#stopped-action")
    return page.locator("#stopped-text").inner_text(), link.get_attribute("href") or ""


def test_sign_in_that_ended_before_connecting_links_to_the_login(
    browser, live_server, world
):
    page, _ = _call_page(browser, live_server, world)
    page.context.clear_cookies()  # the login is gone; the page is still open
    page.get_by_test_id("join").click()
    text, href = _notice(page)
    assert "sign-in has ended" in text
    assert href.startswith("/login?next=")
    assert "Reconnecting" not in page.locator("#connection-status").inner_text()
    call_url = page.url
    page.locator("#stopped-action").click()  # "Sign in again" leads back to the call
    page.get_by_test_id("login-email").fill(world.client["email"])
    page.get_by_test_id("login-password").fill(world.client["password"])
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(call_url)


def test_session_expired_closes_the_call_with_a_sign_in_link_and_no_retry(
    browser, live_server, world
):
    page, frames = _call_page(browser, live_server, world)
    page.get_by_test_id("join").click()
    page.get_by_test_id("waiting-room").wait_for(state="visible")
    frames.from_server(
        '42/rtc,["error",{"code":"session_expired",'
        '"message":"your sign-in reached its time limit; sign in again"}]'
    )
    frames.from_server("41/rtc,")  # the server closes the socket
    text, href = _notice(page)
    assert "longest time allowed" in text and "Sign in again" in text
    assert href.startswith("/login?next=")
    connects = frames.connects
    # longer than the page's wait before it would connect again; Playwright delivers
    # websocket events only while one of its calls runs, so wait through it
    page.wait_for_timeout(2500)
    assert frames.connects == connects
    assert "Reconnecting" not in page.locator("#connection-status").inner_text()


@pytest.mark.parametrize(
    ("code", "words", "stops"),
    [
        ("rate_limited", "Too many connection attempts", False),
        ("too_many_connections", "too many calls or windows open", True),
    ],
)
def test_connect_refusals_are_explained_in_words(
    browser, live_server, world, code, words, stops
):
    page, _ = _call_page(browser, live_server, world, refuse_connect_with=code)
    page.get_by_test_id("join").click()
    if stops:
        text, href = _notice(page)
        assert words in text
        assert href.endswith(page.url.split("/", 3)[-1])  # reload this page
    else:
        status = page.locator("#connection-status")
        page.wait_for_function(
            "w => document.getElementById('connection-status').textContent.includes(w)",
            arg=words,
        )
        assert "tries again in 30 seconds" in status.inner_text()
