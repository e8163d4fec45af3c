"""PHQ-9 before a video session in Chromium: the client answers item 9 above 0 (partly
by keyboard), skips the GAD-7 and reaches the call page; under the blind rating policy
the therapist sees the safety flag on the dashboard, on the call page and on the
client's outcome page (docs/outcomes.md)."""

from collections.abc import Iterator

import pytest

from .browser import login
from .conftest import LiveServer, upgrade_database

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The deployment's default measures (the test config asks none)."""
    tmp = tmp_path_factory.mktemp("live")
    server = LiveServer(
        database_url=f"sqlite:///{tmp}/e2e.sqlite",
        extra_env={"TELETHERAPY_OUTCOME_MEASURES": '["phq9", "gad7"]'},
    )
    upgrade_database(server)
    server.start(tmp)
    yield server
    server.stop()


def test_client_answers_item9_and_the_therapist_sees_the_flag_under_blind_policy(
    browser, live_server, world
):
    session = world.schedule("video")
    sid = session["id"]
    client = login(browser, live_server.url, world.client)
    client.goto(live_server.url + "/client")
    client.locator(f'[data-session-row="{sid}"]').get_by_test_id("join").click()
    client.wait_for_url(f"**/sessions/{sid}/before")
    form = client.get_by_test_id("outcome-form")
    assert "Over the last 2 weeks" in client.content()
    rows = form.locator("fieldset")
    assert rows.count() == 9
    # keyboard: focus the first row's "Not at all" and move to "Several days"
    rows.nth(0).locator("input[type=radio]").nth(0).focus()
    client.keyboard.press("ArrowRight")
    assert rows.nth(0).locator("input[type=radio]").nth(1).is_checked()
    for n in range(1, 8):
        rows.nth(n).locator("input[type=radio]").nth(1).check()  # Several days
    rows.nth(8).locator("input[type=radio]").nth(2).check()  # item 9: more than half
    client.get_by_test_id("outcome-submit").click()
    # the same address again, now with the next questionnaire
    client.get_by_role("heading", name="GAD-7: how have you been?").wait_for()
    assert client.get_by_test_id("outcome-form").locator("fieldset").count() == 7
    client.get_by_test_id("outcome-skip").click()
    client.wait_for_url(f"**/sessions/{sid}")
    assert client.get_by_test_id("outcome-flag").count() == 0  # never on the client's

    therapist = login(browser, live_server.url, world.therapist)
    therapist.goto(live_server.url + "/therapist")
    flag = therapist.get_by_test_id("outcome-flag")
    assert flag.count() == 1 and "PHQ-9 item 9" in flag.inner_text()
    therapist.locator(f'[data-session-row="{sid}"]').get_by_test_id("join").click()
    therapist.wait_for_url(f"**/sessions/{sid}")
    banner = therapist.get_by_test_id("outcome-flag")
    assert banner.is_visible() and "PHQ-9 item 9" in banner.inner_text()

    therapist.goto(live_server.url + "/therapist")
    therapist.get_by_test_id("client-outcomes").first.click()
    page = therapist.get_by_test_id("outcome-table").inner_text()
    assert "10 (Moderate)" in page and "safety flag" in page
    assert "keeps them blind" in therapist.content()  # the blind policy is in force
    for page in (client, therapist):
        page.context.close()
