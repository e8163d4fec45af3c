"""An invitation as the people involved live it, in Chromium against a real server.

The server (`teletherapy serve`, gevent) sends its mail from its background sender
to a real SMTP server in this test process; the client reads the link from the
mail that arrived, opens it, chooses a password and lands on their dashboard.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.smtp import SmtpServer

from .browser import login
from .conftest import LiveServer, make_user

pytestmark = pytest.mark.e2e

# Pictures of the invitation page for a human to look at (not a secret, not shared)
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS") or "/tmp/shots")  # noqa: S108
CHOSEN = "lantern orchard whistle copper"


def test_a_client_accepts_an_invitation_in_the_browser(
    browser: Browser, mail_server: LiveServer, smtp: SmtpServer
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    therapist = make_user(mail_server, "therapist")

    # the therapist invites a client from the dashboard
    page = login(browser, mail_server.url, therapist)
    page.goto(mail_server.url + "/therapist")
    page.get_by_test_id("invite-name").fill("Robin Newcomer")
    page.get_by_test_id("invite-email").fill("robin@example.org")
    page.get_by_test_id("invite-submit").click()
    page.wait_for_url("**/therapist")
    assert "Invitation sent to robin@example.org" in page.content()

    # the mail arrives (sent by the server's background sender)
    smtp.wait_for(1, timeout=30)
    mail = smtp.to("robin@example.org")[0]
    match = re.search(re.escape(mail_server.url) + r"/invite/[A-Za-z0-9_-]+", mail.text)
    assert match, mail.text
    link = match.group(0)
    assert link in mail.html and "E2E Therapist" in mail.text

    # the client opens it in their own browser and chooses a password
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    client = context.new_page()
    response = client.goto(link)
    assert response is not None and response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "Welcome, Robin Newcomer" in client.content()
    client.get_by_label("Choose a password").fill("passwordpassword")
    client.get_by_label("Type the same password again").fill("passwordpassword")
    client.get_by_test_id("password-submit").click()
    assert "too easy to guess" in client.get_by_role("alert").first.inner_text()
    client.get_by_test_id("password-new").fill(CHOSEN)
    client.get_by_test_id("password-confirm").fill(CHOSEN)
    client.screenshot(path=str(SHOTS / "invite.png"), full_page=True)
    client.get_by_test_id("password-submit").click()
    client.wait_for_url("**/client")
    assert "Your account is ready" in client.content()
    client.screenshot(path=str(SHOTS / "invite-done.png"), full_page=True)

    # the link is used up; the client signs in later with the chosen password
    gone = context.new_page()
    response = gone.goto(link)
    assert response is not None and response.status == 410
    assert "This link no longer works" in gone.content()
    assert gone.locator("form input[type=password]").count() == 0
    context.close()
    again = login(
        browser,
        mail_server.url,
        {"email": "robin@example.org", "password": CHOSEN},
    )
    assert again.url.endswith("/client")

    # and is in the therapist's caseload
    page.goto(mail_server.url + "/therapist")
    assert (
        "Robin Newcomer"
        in page.get_by_role("region", name="Your caseload").inner_text()
    )
