"""Two headless Chromium contexts hold a real call through the UI (issue 3, SECURITY.md #9, #10)."""

import pytest
from playwright.sync_api import sync_playwright

from .browser import DIAGNOSTICS, launch, login, poll

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def test_video_call_from_waiting_room_to_rating_pages(browser, live_server, world):
    session = world.schedule("video")
    client = login(browser, live_server.url, world.client)
    therapist = login(browser, live_server.url, world.therapist)
    errors: list[str] = []
    for page in (client, therapist):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    client.goto(live_server.url + session["join_url"])
    therapist.goto(live_server.url + "/therapist")
    badge = therapist.locator(
        f'[data-session-row="{session["id"]}"] [data-waiting-badge]'
    )
    assert badge.is_hidden()

    client.get_by_test_id("join").click()
    client.get_by_test_id("waiting-room").wait_for(state="visible")
    assert "told you are here" in client.get_by_test_id("waiting-room").inner_text()
    badge.wait_for(state="visible", timeout=15_000)  # the dashboard polls every 10 s
    assert "waiting room" in badge.inner_text()
    therapist.goto(live_server.url + session["join_url"])

    therapist.get_by_test_id("admit").click()
    for page in (client, therapist):
        stats = poll(
            page,
            DIAGNOSTICS,
            lambda s: s.get("framesDecoded", 0) > 0 and s.get("audioPackets", 0) > 0,
        )
        assert stats["pcState"] == "connected"
        assert (
            stats["dtlsState"] == "connected" and stats["srtpCipher"]
        )  # encrypted media, never via us
        assert page.get_by_test_id("remote-video").is_visible()
        assert page.get_by_test_id("local-video").is_visible()

    text = "Hello <b>there</b> & welcome"
    client.locator("#chat-toggle").click()
    client.get_by_test_id("chat-input").fill(text)
    client.get_by_test_id("chat-send").click()
    therapist.locator("#chat-toggle").click()
    therapist.get_by_test_id("chat-log").get_by_text(text).wait_for()
    assert (
        therapist.get_by_test_id("chat-log").locator("b").count() == 0
    )  # shown as text

    therapist.get_by_test_id("end-session").click()
    for page in (client, therapist):
        page.wait_for_url(f"**/sessions/{session['id']}/rating", timeout=10_000)
    assert errors == []


def test_chat_session_opens_only_the_chat_panel(browser, live_server, world):
    session = world.schedule("chat")
    client = login(browser, live_server.url, world.client)
    client.goto(live_server.url + session["join_url"])
    assert client.get_by_test_id("chat-log").is_visible()
    assert not client.get_by_test_id("local-video").count()
    client.get_by_test_id("join").click()
    client.get_by_test_id("waiting-room").wait_for(state="visible")


def test_in_person_session_has_no_call_page(browser, live_server, world):
    session = world.schedule("in_person")
    therapist = login(browser, live_server.url, world.therapist)
    therapist.goto(live_server.url + session["join_url"])
    assert therapist.url.endswith("/therapist")
    assert "happens in person" in therapist.content()
