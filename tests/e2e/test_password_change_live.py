"""Own passwords against the real server (gevent, as in production) and Chromium:
a change in Settings and a reset by e-mail close every other way in, sockets
included, within 2 s (docs/security.md, rows 24 and 25)."""

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio

from ..smtp import SmtpServer
from .browser import login
from .conftest import LiveServer, make_world, upgrade_database
from .test_security_live import web_login

pytestmark = pytest.mark.e2e

NEW = "tangerine lighthouse quietly folding maps"
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/password/reset/[A-Za-z0-9_\-]+)")


@pytest.fixture(scope="module")
def mail_server(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[LiveServer]:
    """A server whose mail goes to ``smtp`` (sent by `teletherapy mail send`)."""
    tmp: Path = tmp_path_factory.mktemp("live-passwords")
    server = LiveServer(database_url=f"sqlite:///{tmp}/e2e.sqlite")
    server.extra_env.update(
        TELETHERAPY_SMTP_URL=smtp.url, TELETHERAPY_PUBLIC_URL=server.url
    )
    upgrade_database(server)
    server.start(tmp)
    yield server
    server.stop()


def _cookie_headers(s: requests.Session) -> dict[str, str]:
    # strong session protection ties the cookie to the user agent, as a browser's
    return {
        "Cookie": "; ".join(f"{k}={v}" for k, v in s.cookies.items()),
        "User-Agent": s.headers["User-Agent"],
    }


def _socket(server: LiveServer, **kwargs) -> socketio.Client:  # type: ignore[no-untyped-def]
    sio = socketio.Client(reconnection=False)
    sio.connect(
        server.url,
        namespaces=["/rtc"],
        transports=["websocket"],
        wait_timeout=10,
        **kwargs,
    )
    return sio


def _closed_within(sio: socketio.Client, seconds: float) -> float:
    t0 = time.monotonic()
    while sio.connected:
        if time.monotonic() - t0 > seconds:
            sio.disconnect()
            raise AssertionError(f"socket still open after {seconds} s")
        time.sleep(0.02)
    return time.monotonic() - t0


def _issue(server: LiveServer, email: str, password: str) -> int:
    r = requests.post(
        server.url + "/api/v1/auth/token",
        json={"email": email, "password": password},
        timeout=10,
    )
    return r.status_code


def _assert_signed_out(server: LiveServer, other: requests.Session) -> None:
    r = other.get(server.url + "/settings", timeout=10, allow_redirects=False)
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_a_change_in_the_browser_closes_every_other_socket(browser, mail_server):
    world = make_world(mail_server)
    person = world.client
    other = web_login(mail_server, person)
    token = person["token"]
    page = login(browser, mail_server.url, person)
    page.goto(mail_server.url + "/settings")

    cookie_socket = _socket(mail_server, headers=_cookie_headers(other))
    token_socket = _socket(mail_server, auth={"token": token})
    _change_in_page(page, person["password"])
    took = _closed_within(cookie_socket, 2.0), _closed_within(token_socket, 2.0)
    assert max(took) < 2.0
    for kwargs in ({"headers": _cookie_headers(other)}, {"auth": {"token": token}}):
        with pytest.raises(socketio.exceptions.ConnectionError):
            _socket(mail_server, **kwargs)
    _assert_signed_out(mail_server, other)
    me = requests.get(
        mail_server.url + "/api/v1/me",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert me.status_code == 401
    page.reload()
    assert page.url.endswith("/settings"), "the browser that changed it stays in"
    assert _issue(mail_server, person["email"], person["password"]) == 401
    assert _issue(mail_server, person["email"], NEW) == 200


def _change_in_page(page, current: str) -> None:  # type: ignore[no-untyped-def]
    """Fill the Settings form by its visible labels, as a person would."""
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password again").fill(NEW)
    page.get_by_test_id("password-submit").click()
    page.wait_for_url("**/settings")
    page.get_by_text("Your password is changed").wait_for()


def test_a_reset_by_mail_in_the_browser(browser, mail_server, smtp):
    world = make_world(mail_server)
    person = world.client
    other = web_login(mail_server, person)
    context = browser.new_context()
    page = context.new_page()
    page.goto(mail_server.url + "/login")
    page.get_by_text("Forgot your password?").click()
    page.get_by_label("E-mail").fill(person["email"])
    page.get_by_test_id("reset-submit").click()
    page.get_by_text("If an account uses that address").wait_for()
    mail_server.cli("mail", "send")
    [message] = smtp.to(person["email"])
    link = LINK.search(message.text).group(1)  # type: ignore[union-attr]

    sock = _socket(mail_server, auth={"token": person["token"]})
    _reset_in_page(page, link)
    assert _closed_within(sock, 2.0) < 2.0
    _assert_signed_out(mail_server, other)
    page.goto(link)
    assert page.get_by_test_id("link-gone").is_visible()
    page.get_by_test_id("reset-again").click()
    assert page.url.endswith("/password/reset")
    assert _issue(mail_server, person["email"], person["password"]) == 401
    assert _issue(mail_server, person["email"], NEW) == 200
    context.close()


def _reset_in_page(page, link: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(link)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password again").fill(NEW)
    page.get_by_test_id("password-submit").click()
    page.wait_for_url("**/login")
    page.get_by_text("Your new password is set").wait_for()
