"""Take the README's screenshots from a fresh demo install, as a new user would see it.

Starts `teletherapy serve` on a temporary database with `teletherapy demo`, holds a call
between two Chromium contexts with fake media, rates it from both sides, opens the research
dashboard, and writes PNGs to docs/img/. Usage: .venv/bin/python scripts/screenshots.py
"""

import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.browser import DIAGNOSTICS, launch, poll  # noqa: E402
from tests.e2e.conftest import LiveServer  # noqa: E402

OUT = ROOT / "docs" / "img"


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tt-shots-"))
    server = LiveServer(database_url=f"sqlite:///{tmp}/demo.sqlite")
    server.cli("db", "upgrade")
    out = server.cli("demo", "--dyads", "6", "--sessions", "8")
    creds = {
        r: {"email": e, "password": p}
        for r, e, p in re.findall(r"(\w+)\s+(\S+@demo\.example)\s+(\S+)", out)
    }
    server.start(tmp)
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = launch(p)
            pages = {}
            for role in ("client", "therapist"):
                ctx = browser.new_context(viewport={"width": 1200, "height": 800})
                page = ctx.new_page()
                page.on("dialog", lambda d: d.accept())
                page.goto(server.url + "/login")
                if role == "client":
                    page.screenshot(path=OUT / "login.png")
                page.get_by_test_id("login-email").fill(creds[role]["email"])
                page.get_by_test_id("login-password").fill(creds[role]["password"])
                page.get_by_test_id("login-submit").click()
                pages[role] = page
            t = pages["therapist"]
            t.fill(
                "#scheduled_start",
                time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + 600)),
            )
            t.select_option("#client_id", label="Sam Client")
            t.get_by_role("button", name="Schedule session").click()
            t.screenshot(path=OUT / "therapist-dashboard.png", full_page=True)
            sid = t.locator("[data-session-row]").first.get_attribute(
                "data-session-row"
            )
            c = pages["client"]
            c.goto(f"{server.url}/sessions/{sid}")
            c.get_by_test_id("join").click()
            c.get_by_test_id("waiting-room").wait_for(state="visible")
            c.screenshot(path=OUT / "waiting-room.png")
            t.goto(f"{server.url}/sessions/{sid}")
            t.get_by_test_id("admit").click()
            poll(t, DIAGNOSTICS, lambda s: s.get("framesDecoded", 0) > 0)
            t.locator("#chat-toggle").click()
            t.get_by_test_id("chat-input").fill("Good to see you. How was your week?")
            t.get_by_test_id("chat-send").click()
            time.sleep(1)
            t.screenshot(path=OUT / "call.png")
            t.get_by_test_id("end-session").click()
            for page in (c, t):
                page.wait_for_url("**/rating")
            c.screenshot(path=OUT / "rating-form.png", full_page=True)
            researcher = browser.new_context(
                viewport={"width": 1200, "height": 900}
            ).new_page()
            researcher.goto(server.url + "/login")
            researcher.get_by_test_id("login-email").fill(creds["researcher"]["email"])
            researcher.get_by_test_id("login-password").fill(
                creds["researcher"]["password"]
            )
            researcher.get_by_test_id("login-submit").click()
            researcher.goto(server.url + "/research/")
            researcher.wait_for_load_state("networkidle")
            researcher.screenshot(path=OUT / "research-dashboard.png", full_page=True)
            browser.close()
    finally:
        server.stop()
    print("screenshots in", OUT)


if __name__ == "__main__":
    main()
