"""A message that arrives while the chat panel is closed is counted and announced
(docs/api.md: the call page's `chat-toggle` and `chat-unread`)."""

import pytest

from .browser import DIAGNOSTICS, join_both, poll
from .served import keep_screenshot

pytestmark = pytest.mark.e2e


def test_message_to_a_closed_chat_panel_is_counted_announced_and_cleared(
    browser, live_server, world
):
    _, (client, therapist) = join_both(browser, live_server, world, "video")
    for page in (client, therapist):
        poll(page, DIAGNOSTICS, lambda s: s.get("framesDecoded", 0) > 0)

    toggle = therapist.get_by_test_id("chat-toggle")
    unread = therapist.get_by_test_id("chat-unread")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert toggle.get_attribute("aria-controls") == "chat"
    assert unread.is_hidden()

    text = "someone just came in, I have to stop"
    client.get_by_test_id("chat-toggle").click()
    client.get_by_test_id("chat-input").fill(text)
    client.get_by_test_id("chat-send").click()

    unread.wait_for(state="visible", timeout=10_000)
    assert unread.inner_text().strip() == "1"
    assert therapist.get_by_test_id("chat-log").is_hidden()
    live = therapist.locator("#chat-announce")
    assert live.get_attribute("aria-live") in ("polite", "assertive")
    assert "new chat message" in live.inner_text().lower()
    assert "1 unread" in (toggle.get_attribute("aria-label") or "")
    keep_screenshot(therapist, "chat-unread")

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert unread.is_hidden()
    therapist.get_by_test_id("chat-log").get_by_text(text).wait_for()
    focused = therapist.evaluate("() => document.activeElement.dataset.testid")
    assert focused == "chat-input"

    # a message while the panel is open raises no count
    client.get_by_test_id("chat-input").fill("still there?")
    client.get_by_test_id("chat-send").click()
    therapist.get_by_test_id("chat-log").get_by_text("still there?").wait_for()
    assert unread.is_hidden()
