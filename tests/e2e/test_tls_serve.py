"""`teletherapy serve --tls-cert/--tls-key` with a pair from `teletherapy tls selfsigned`:
HTTPS, Secure cookies, and a call between two browsers over it (browsers give camera and
microphone only to HTTPS or localhost, so two computers on one network need this)."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page

from .browser import DIAGNOSTICS, poll
from .conftest import make_world
from .served import PlainServer, keep_screenshot

pytestmark = pytest.mark.e2e


@dataclass
class TlsServer(PlainServer):
    cert: Path | None = None
    key: Path | None = None

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    def serve_args(self) -> list[str]:
        return [
            *super().serve_args(),
            *("--tls-cert", str(self.cert), "--tls-key", str(self.key)),
        ]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    tmp = tmp_path_factory.mktemp("tls")
    server = TlsServer(database_url=f"sqlite:///{tmp}/tls.sqlite")
    out = server.cli(
        "tls",
        "selfsigned",
        "--host",
        "localhost",
        "--host",
        "127.0.0.1",
        "--out",
        str(tmp / "pair"),
    )
    assert "serve with: teletherapy serve" in out
    server.cert, server.key = tmp / "pair" / "cert.pem", tmp / "pair" / "key.pem"
    assert oct(server.key.stat().st_mode & 0o777) == "0o600"
    server.cli("db", "upgrade")
    previous = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(server.cert)  # the test trusts its own pair
    try:
        server.start(tmp)
        yield server
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = previous


def test_https_with_secure_cookies_and_no_plain_http(tls_server: TlsServer) -> None:
    health = requests.get(tls_server.url + "/healthz", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    login = requests.get(tls_server.url + "/login", timeout=5)
    cookie = login.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://localhost:{tls_server.port}/healthz", timeout=5)


def _login(browser: Browser, base: str, user: dict[str, str]) -> Page:
    context = browser.new_context(
        ignore_https_errors=True,  # the browser's one-time "trust this certificate"
        viewport={"width": 1200, "height": 800},
    )
    page = context.new_page()
    page.goto(base + "/login")
    page.get_by_test_id("login-email").fill(user["email"])
    page.get_by_test_id("login-password").fill(user["password"])
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def test_a_call_over_https(browser: Browser, tls_server: TlsServer) -> None:
    world = make_world(tls_server)
    session = world.schedule("video")
    client = _login(browser, tls_server.url, world.client)
    therapist = _login(browser, tls_server.url, world.therapist)
    for page in (client, therapist):
        page.goto(tls_server.url + session["join_url"])
        assert page.evaluate("window.isSecureContext") is True
    client.get_by_test_id("join").click()
    client.get_by_test_id("waiting-room").wait_for(state="visible")
    therapist.get_by_test_id("admit").click()
    for page in (client, therapist):
        stats = poll(
            page,
            DIAGNOSTICS,
            lambda s: s.get("framesDecoded", 0) > 0 and s.get("audioPackets", 0) > 0,
        )
        assert stats["pcState"] == "connected"
    keep_screenshot(therapist, "call-over-https")
