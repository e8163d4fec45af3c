"""Two-step sign-in in a real browser: a therapist whose role requires it is sent to
enrolment, reads the secret off the page (as someone typing it into an app would),
confirms with a code, keeps the recovery codes, signs out, and signs in again with
password and code."""

import re
import time

import pyotp
import pytest

from .browser import login
from .conftest import LiveServer, make_user, upgrade_database
from .served import keep_screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path):  # type: ignore[no-untyped-def]
    server = LiveServer(
        database_url=f"sqlite:///{tmp_path}/2fa.sqlite",
        extra_env={"TELETHERAPY_REQUIRE_2FA_ROLES": '["therapist"]'},
    )
    upgrade_database(server)
    server.start(tmp_path)
    yield server
    server.stop()


def _wait_for_next_step() -> None:
    """A code works once: the sign-in after enrolment needs the next 30-second step."""
    time.sleep(30 - time.time() % 30 + 0.5)


def test_enrol_then_sign_in_with_password_and_code(browser, server) -> None:  # type: ignore[no-untyped-def]
    therapist = make_user(server, "therapist")
    page = login(browser, server.url, therapist)

    # the role requires a second factor: every page leads to enrolment
    page.wait_for_url(re.compile(r"/settings/2fa$"))
    page.goto(server.url + "/therapist")
    page.wait_for_url(re.compile(r"/settings/2fa$"))
    assert page.get_by_test_id("two-factor-required").is_visible()
    qr = page.get_by_test_id("totp-qr").locator("svg")
    assert qr.is_visible() and qr.bounding_box()["width"] >= 150  # type: ignore[index]
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    keep_screenshot(page, "2fa")

    totp = pyotp.TOTP(secret)
    page.get_by_test_id("totp-confirm-code").fill(
        "000000" if totp.now() != "000000" else "111111"
    )
    page.get_by_test_id("totp-confirm").click()
    assert page.get_by_text("did not match").is_visible()
    page.get_by_test_id("totp-confirm-code").fill(totp.now())
    page.get_by_test_id("totp-confirm").click()
    codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    keep_screenshot(page, "2fa-recovery-codes")
    page.get_by_test_id("recovery-codes-done").click()
    page.wait_for_url(re.compile(r"/therapist$"))

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    _wait_for_next_step()

    page.get_by_test_id("login-email").fill(therapist["email"])
    page.get_by_test_id("login-password").fill(therapist["password"])
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(re.compile(r"/login/code$"))
    # the password alone opens nothing
    page.goto(server.url + "/therapist")
    page.wait_for_url(re.compile(r"/login"))
    page.goto(server.url + "/login/code")
    page.get_by_test_id("totp-code").fill(
        "123456" if totp.now() != "123456" else "654321"
    )
    page.get_by_test_id("totp-submit").click()
    assert page.get_by_text("That code did not work").is_visible()
    page.get_by_test_id("totp-code").fill(totp.now())
    keep_screenshot(page, "2fa-code-step")
    page.get_by_test_id("totp-submit").click()
    page.wait_for_url(re.compile(r"/therapist$"))
    assert page.get_by_role("button", name="Sign out").is_visible()
    page.context.close()
