"""Two headless Chromium contexts hold a real call through the UI (docs/security.md, rows 9
and 10)."""

import time

import pytest
from sqlalchemy import create_engine, text

from .browser import DIAGNOSTICS, join_both, login, poll
from .conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e


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


def _quality_rows(live_server, session_id: str) -> int:  # type: ignore[no-untyped-def]
    engine = create_engine(live_server.database_url)
    with engine.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM quality_samples WHERE session_id = :s"),
            {"s": session_id},
        ).scalar_one()
    engine.dispose()
    return int(n)


def test_audio_call_uses_no_camera_and_reports_quality(browser, live_server, world):
    session, pages = join_both(browser, live_server, world, "audio")
    for page in pages:
        stats = poll(page, DIAGNOSTICS, lambda s: s.get("audioPackets", 0) > 0)
        assert stats["framesDecoded"] == 0
        kinds = page.evaluate(
            "() => document.getElementById('local-video').srcObject.getTracks().map(t => t.kind)"
        )
        assert kinds == ["audio"]
    # mute: the track is disabled and the button says so
    mic = pages[0].locator("#mic-toggle")
    mic.click()
    assert (
        mic.get_attribute("aria-pressed") == "true"
        and mic.inner_text() == "Unmute microphone"
    )
    enabled = pages[0].evaluate(
        "() => document.getElementById('local-video').srcObject.getAudioTracks()[0].enabled"
    )
    assert enabled is False
    # switch the microphone mid-call: replaceTrack keeps the call up
    options = pages[0].locator("#mic-select option")
    if options.count() > 1:
        pages[0].select_option("#mic-select", index=1)
    assert poll(pages[0], DIAGNOSTICS, lambda s: s["pcState"] == "connected")
    deadline = time.monotonic() + 20
    while _quality_rows(live_server, session["id"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert (
        _quality_rows(live_server, session["id"]) >= 2
    )  # a sample every 5 s from each side


def test_call_moved_to_another_tab_reconnects_media(browser, live_server, world):
    """The client opens the call in a second tab: the first is replaced (no
    `peer_left`), the therapist's connection still looks alive, so the client's
    new page offers itself after its wait for an offer (main.js)."""
    session, (client, therapist) = join_both(browser, live_server, world, "audio")
    poll(client, DIAGNOSTICS, lambda s: s.get("audioPackets", 0) > 0)

    moved = client.context.new_page()
    moved.goto(live_server.url + session["join_url"])
    moved.get_by_test_id("join").click()
    client.get_by_text("open in another window or tab").wait_for()
    before = therapist.evaluate(DIAGNOSTICS)["audioPackets"]
    stats = poll(
        moved,
        DIAGNOSTICS,
        lambda s: s.get("pcState") == "connected" and s.get("audioPackets", 0) > 0,
    )
    assert "host" in stats["localCandidateTypes"]
    poll(therapist, DIAGNOSTICS, lambda s: s.get("audioPackets", 0) > before + 50)


def test_blocked_camera_gets_a_plain_language_message(playwright, live_server, world):
    session = world.schedule("video")
    args = [a for a in CHROMIUM_ARGS if a != "--use-fake-ui-for-media-stream"]
    b = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*args, "--deny-permission-prompts"]
    )
    try:
        page = login(b, live_server.url, world.client)
        page.goto(live_server.url + session["join_url"])
        message = page.locator("#media-error-text")
        message.wait_for(state="visible")
        assert "blocked the camera" in message.inner_text()
        assert page.get_by_role("button", name="Try again").is_visible()
    finally:
        b.close()
