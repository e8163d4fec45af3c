"""Both parties rate an in-person session in Chromium; the dashboards then show it as done."""

import pytest
from playwright.sync_api import Page

from .browser import login

pytestmark = pytest.mark.e2e


def _answer_everything(page: Page, choice: int) -> None:
    for fieldset in page.get_by_test_id("rating-form").locator("fieldset").all():
        radios = fieldset.locator("input[type=radio]")
        radios.nth(min(choice, radios.count() - 1)).check()


def test_both_parties_rate_and_the_dashboards_show_it_done(browser, live_server, world):
    session = world.schedule("in_person")
    therapist = login(browser, live_server.url, world.therapist)
    client = login(browser, live_server.url, world.client)
    row = therapist.locator(f'[data-session-row="{session["id"]}"]')
    row.get_by_role("button", name="Start").click()
    therapist.locator(f'[data-session-row="{session["id"]}"]').get_by_test_id(
        "end-session"
    ).click()
    therapist.wait_for_url(f"**/sessions/{session['id']}/rating")

    client.goto(live_server.url + "/client")
    client.get_by_role("link", name="Rate this session").click()
    client.wait_for_url(f"**/sessions/{session['id']}/rating")
    assert (
        "will never see your answers"
        in client.get_by_test_id("rating-form").inner_text()
    )
    assert (
        client.get_by_test_id("rating-form").get_by_text("Not at all").count() > 0
    )  # anchors

    # an incomplete form keeps what was chosen and names what is missing
    client.get_by_test_id("rating-form").locator("fieldset").first.locator(
        "input[type=radio]"
    ).nth(3).check()
    client.get_by_test_id("rating-submit").click()
    assert client.locator(".question.has-error").count() > 0
    assert (
        client.get_by_test_id("rating-form")
        .locator("fieldset")
        .first.locator("input[type=radio]")
        .nth(3)
        .is_checked()
    )

    for page, choice in ((client, 4), (therapist, 3)):
        _answer_everything(page, choice)
        page.get_by_test_id("rating-submit").click()
        page.wait_for_load_state()
        assert "Thank you" in page.content() or "submitted" in page.content().lower()

    for page, path in ((client, "/client"), (therapist, "/therapist")):
        page.goto(live_server.url + path)
        card = page.get_by_role("region", name="Ratings to complete")
        assert "Rate this session" not in card.inner_text()
        assert "Rated" in card.inner_text()
