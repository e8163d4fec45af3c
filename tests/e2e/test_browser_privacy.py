"""docs/security.md, rows 10, 11 and 20 in the browser: direct media, relay-only ICE, TURN
refresh, skew."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from .browser import DIAGNOSTICS, join_both, login, poll
from .conftest import LiveServer, make_world, upgrade_database

pytestmark = pytest.mark.e2e


def _server(tmp_path, **env: str) -> LiveServer:  # type: ignore[no-untyped-def]
    server = LiveServer(database_url=f"sqlite:///{tmp_path}/s.sqlite", extra_env=env)
    upgrade_database(server)
    return server.start(tmp_path)


def test_default_policy_connects_directly(browser, live_server, world):
    _, pages = join_both(browser, live_server, world)
    stats = poll(pages[0], DIAGNOSTICS, lambda s: s.get("pcState") == "connected")
    assert (
        "host" in stats["localCandidateTypes"]
    )  # peer-to-peer on this machine, no relay


def test_relay_only_policy_never_reveals_an_address(browser, tmp_path):
    server = _server(tmp_path, TELETHERAPY_ICE_TRANSPORT_POLICY="relay")
    try:
        world = make_world(server)
        _, pages = join_both(browser, server, world)
        time.sleep(3)  # candidate gathering has finished by now
        for page in pages:
            config = page.evaluate(
                "() => document.getElementById('call').dataset.icePolicy"
            )
            assert config == "relay"
            stats = page.evaluate(DIAGNOSTICS)
            assert set(stats["localCandidateTypes"]) <= {"relay"}
    finally:
        server.stop()


def test_turn_credentials_are_renewed_before_they_expire(browser, tmp_path):
    server = _server(
        tmp_path,
        TELETHERAPY_TURN_URLS='["turn:127.0.0.1:3478"]',
        TELETHERAPY_TURN_SECRET="turn-secret",
        TELETHERAPY_TURN_TTL_SECONDS="5",
    )
    try:
        world = make_world(server)
        session = world.schedule("chat")
        page = login(browser, server.url, world.client)
        renewals: list[float] = []
        page.on(
            "request",
            lambda r: (
                "/sessions/ice-servers" in r.url and renewals.append(time.monotonic())
            ),
        )
        page.goto(server.url + session["join_url"])
        page.get_by_test_id("join").click()
        page.get_by_test_id("waiting-room").wait_for(state="visible")
        deadline = time.monotonic() + 15
        while len(renewals) < 2 and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        assert len(renewals) >= 2  # every 4 s for a 5 s credential
    finally:
        server.stop()


def test_a_skewed_client_clock_never_reaches_stored_times(browser, live_server, world):
    session = world.schedule("chat")
    page = login(browser, live_server.url, world.client)
    page.clock.set_system_time(datetime.now(UTC) + timedelta(minutes=10))
    page.goto(live_server.url + session["join_url"])
    page.get_by_test_id("join").click()
    page.get_by_test_id("waiting-room").wait_for(state="visible")
    page.get_by_test_id("chat-input").fill("what time is it?")
    page.get_by_test_id("chat-send").click()
    stamp = page.get_by_test_id("chat-log").locator("time").first
    stamp.wait_for()
    sent_at = datetime.fromisoformat(
        stamp.get_attribute("datetime").replace("Z", "+00:00")
    )
    assert abs((sent_at - datetime.now(UTC)).total_seconds()) < 60  # the server's clock
