"""A session moved from the therapist's dashboard in Chromium against a real server.

The server (`teletherapy serve`, gevent) sends the calendar updates from its
background sender to a real SMTP server in this test process; then
`teletherapy reminders send`, run as the timer would, reminds both participants
of the new time once.
"""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import requests
from playwright.sync_api import Browser

from tests.smtp import SmtpServer

from .browser import login
from .conftest import LiveServer, make_world

pytestmark = pytest.mark.e2e

# Pictures of the dashboard for a human to look at (not a secret, not shared)
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS") or "/tmp/shots")  # noqa: S108


def _event(ics: bytes) -> icalendar.Event:
    (event,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    return event


def test_a_therapist_moves_a_session_and_both_are_told_and_reminded_once(
    browser: Browser, mail_server: LiveServer, smtp: SmtpServer
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    world = make_world(mail_server)
    start = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    r = requests.post(
        mail_server.url + "/api/v1/sessions",
        json={
            "client_id": world.client["id"],
            "modality": "video",
            "scheduled_start": start.isoformat(),
            "duration_minutes": 50,
        },
        headers={"Authorization": f"Bearer {world.therapist['token']}"},
        timeout=10,
    )
    r.raise_for_status()
    session = r.json()
    smtp.wait_for(2, timeout=30)  # the invitations, sent in the background

    page = login(browser, mail_server.url, world.therapist)
    page.goto(mail_server.url + "/therapist")
    row = page.locator(f"[data-session-row='{session['id']}']")
    row.get_by_text("Reschedule").click()
    moved = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    row.get_by_label("New date and time").fill(moved.strftime("%Y-%m-%dT%H:%M"))
    row.get_by_label("Length in minutes").fill("40")
    page.screenshot(path=str(SHOTS / "reschedule.png"), full_page=True)
    row.get_by_test_id("reschedule-submit").click()
    page.wait_for_url("**/therapist")
    assert "Session moved" in page.content()

    got = smtp.wait_for(4, timeout=30)  # the updates, sent in the background
    updates = got[2:]
    assert {m.to for m in updates} == {world.therapist["email"], world.client["email"]}
    for mail in updates:
        assert mail.subject.startswith("Session moved to")
        event = _event(mail.attachment(".ics"))
        assert str(event["UID"]).startswith(session["id"] + "@")
        assert int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART") == moved
        assert event.decoded("DTEND") == moved + timedelta(minutes=40)
        assert mail_server.url + session["join_url"] in mail.text

    out = mail_server.cli("reminders", "send")
    assert out.startswith("queued 2 reminders for 1 sessions; sent 2"), out
    assert mail_server.cli("reminders", "send").startswith("queued 0 reminders")
    got = smtp.wait_for(6, timeout=30)
    assert len(got) == 6
    for mail in got[4:]:
        assert mail.subject.startswith("Reminder: your session on")
        assert _event(mail.attachment(".ics")).decoded("DTSTART") == moved
