"""Own passwords: change in Settings, reset by e-mail; either ends every other
sign-in (docs/security.md, rows 24 and 25)."""

import json
import logging
import re
import statistics
import time
import uuid
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

import signaling
from teletherapy import mailer
from teletherapy.auth import passwords as password_views
from teletherapy.extensions import db
from teletherapy.models import AuditEvent, PasswordReset, User
from teletherapy.services import accounts, audit

from .helpers import PASSWORD, new_user

NS = "/rtc"
NEW = "tangerine lighthouse quietly folding maps"
OTHER = "violet harbour sleeps under seven kites"
LINK = re.compile(r"https://clinic\.example/password/reset/([A-Za-z0-9_\-]+)")
START = "2026-11-26 09:00:00+00:00"


# --- helpers ------------------------------------------------------------------------


def _login(browser, email, password, address="127.0.0.1"):  # type: ignore[no-untyped-def]
    return browser.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _change(browser, current, new, confirm=None):  # type: ignore[no-untyped-def]
    return browser.post(
        "/settings/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def _ask_reset(browser, email, address="127.0.0.1"):  # type: ignore[no-untyped-def]
    return browser.post(
        "/password/reset", data={"email": email}, environ_base={"REMOTE_ADDR": address}
    )


def _set_new(browser, token, new, confirm=None):  # type: ignore[no-untyped-def]
    return browser.post(
        f"/password/reset/{token}",
        data={
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def _links(app, smtp_server, to):  # type: ignore[no-untyped-def]
    """Deliver queued mail; the reset links sent to ``to``, oldest first."""
    mailer.drain(app)
    found = []
    for message in smtp_server.to(to):
        match = LINK.search(message.text)
        if match:
            found.append(match.group(1))
    return found


def _socket(app, token=None, http=None):  # type: ignore[no-untyped-def]
    return signaling.socketio.test_client(
        app,
        namespace=NS,
        flask_test_client=http,
        auth={"token": token} if token else None,
    )


def _closed_soon(sock, seconds: float = 2.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while sock.is_connected(NS) and time.monotonic() < deadline:
        time.sleep(0.01)
    return not sock.is_connected(NS)


def _audit(app, action):  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(
            db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        )


def _all_audit_text(app) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent))
        return "\n".join(
            json.dumps(
                [r.action, r.actor_id, r.target_type, r.target_id, r.details],
                default=str,
            )
            for r in rows
        )


class OtherWays:
    """Every other way the person is in: a second browser, an API token, and
    sockets opened with each."""

    def __init__(self, app, user) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.browser = app.test_client()
        assert _login(self.browser, user.email, PASSWORD).status_code == 302
        issuer = app.test_client()
        r = issuer.post(
            "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}
        )
        assert r.status_code == 200
        self.token = r.get_json()["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.token_socket = _socket(app, token=self.token)
        self.cookie_socket = _socket(app, http=self.browser)
        assert self.browser.get("/settings").status_code == 200
        assert issuer.get("/api/v1/me", headers=self.headers).status_code == 200
        assert self.token_socket.is_connected(NS)
        assert self.cookie_socket.is_connected(NS)

    def assert_all_ended(self) -> None:
        r = self.browser.get("/settings")
        assert r.status_code == 302 and "/login" in r.headers["Location"]
        api = self.app.test_client()
        assert api.get("/api/v1/me", headers=self.headers).status_code == 401
        assert _closed_soon(self.token_socket)
        assert _closed_soon(self.cookie_socket)
        assert not _socket(self.app, http=self.browser).is_connected(NS)
        assert not _socket(self.app, token=self.token).is_connected(NS)


@pytest.fixture
def person(mail_app):  # type: ignore[no-untyped-def]
    """A client (clients may open /rtc sockets) with PASSWORD."""
    return new_user(mail_app, "client", name="Robin Example")


# --- change in Settings -----------------------------------------------------------


def test_settings_offers_the_change_with_labels_and_the_rule(mail_app, person):
    browser = mail_app.test_client()
    _login(browser, person.email, PASSWORD)
    page = browser.get("/settings").get_data(as_text=True)
    for hook in ("password-current", "password-new", "password-confirm"):
        assert f'data-testid="{hook}"' in page
    assert 'data-testid="password-submit"' in page
    for label in ("Current password", "New password", "New password again"):
        assert f">{label}</label>" in page
    assert "at least 12 characters" in page
    assert 'href="/settings/2fa"' in page and "Two-step sign-in" in page


def test_change_ends_every_other_sign_in_and_keeps_this_browser(
    mail_app, smtp_server, person
):
    browser = mail_app.test_client()
    _login(browser, person.email, PASSWORD)
    others = OtherWays(mail_app, person)
    own_socket = _socket(mail_app, http=browser)
    assert own_socket.is_connected(NS)

    r = _change(browser, PASSWORD, NEW)

    assert r.status_code == 302 and r.headers["Location"].endswith("/settings")
    page = browser.get("/settings")
    assert page.status_code == 200, "the browser that changed it stays signed in"
    assert "Your password is changed" in page.get_data(as_text=True)
    others.assert_all_ended()
    assert _closed_soon(own_socket)  # every socket; this page opens a new one
    assert _socket(mail_app, http=browser).is_connected(NS)
    assert _login(mail_app.test_client(), person.email, PASSWORD).status_code == 401
    assert _login(mail_app.test_client(), person.email, NEW).status_code == 302
    with mail_app.app_context():
        stored = db.session.get(User, person.id)
        assert stored.password_changed_at is not None
    [row] = _audit(mail_app, "password.change")
    assert row.actor_id == person.id and row.target_id == person.id
    mailer.drain(mail_app)
    [notice] = smtp_server.to(person.email)
    assert notice.subject == "Your password was changed"
    assert "was changed" in notice.text and "/password/reset" in notice.text
    assert "(UTC)" in notice.text  # the person's time zone (the default)
    assert NEW not in notice.text and PASSWORD not in notice.text


def test_a_wrong_current_password_is_refused_and_counted(mail_app, person):
    browser = mail_app.test_client()
    _login(browser, person.email, PASSWORD)
    others = OtherWays(mail_app, person)
    r = _change(browser, "not my password at all", NEW)
    assert r.status_code == 422
    assert "not your current password" in r.get_data(as_text=True)
    assert others.browser.get("/settings").status_code == 200  # nothing ended
    assert _login(mail_app.test_client(), person.email, PASSWORD).status_code == 302
    failed = _audit(mail_app, "login.failed")
    assert [(e.actor_id, e.details["reason"]) for e in failed] == [
        (person.id, "bad_password")
    ]
    assert _audit(mail_app, "password.change") == []


@pytest.mark.parametrize(
    ("new", "confirm", "says"),
    [
        ("short one", None, "must be at least 12 characters"),
        ("password1234", None, "too easy to guess"),
        ("Robin Example 1", None, "too easy to guess"),  # the person's name
        (NEW, OTHER, "The two new passwords are not the same."),
    ],
)
def test_a_refused_new_password_says_why_and_changes_nothing(
    mail_app, person, new, confirm, says
):
    browser = mail_app.test_client()
    _login(browser, person.email, PASSWORD)
    r = _change(browser, PASSWORD, new, confirm)
    assert r.status_code == 422
    assert says in r.get_data(as_text=True)
    assert 'aria-invalid="true"' in r.get_data(as_text=True)
    assert browser.get("/settings").status_code == 200
    assert _login(mail_app.test_client(), person.email, PASSWORD).status_code == 302
    assert _audit(mail_app, "password.change") == []


def test_wrong_current_passwords_are_rate_limited(make_app):
    app = make_app(AUTH_RATE_LIMIT="3 per minute")
    user = new_user(app, "therapist")
    browser = app.test_client()
    _login(browser, user.email, PASSWORD)
    codes = [_change(browser, f"wrong guess {n}", NEW).status_code for n in range(4)]
    assert codes == [422, 422, 422, 429]


def test_a_change_keeps_the_absolute_limit_of_the_original_sign_in(mail_app, person):
    hours = mail_app.config["SESSION_ABSOLUTE_HOURS"]
    browser = mail_app.test_client()
    with time_machine.travel(START, tick=False) as clock:
        _login(browser, person.email, PASSWORD)
        for _ in range(int(hours * 3) - 2):  # active every 20 minutes
            clock.shift(timedelta(minutes=20))
            assert browser.get("/settings").status_code == 200
        clock.shift(timedelta(minutes=10))  # half an hour before the limit
        assert _change(browser, PASSWORD, NEW).status_code == 302
        assert browser.get("/settings").status_code == 200
        clock.shift(timedelta(minutes=20))
        assert browser.get("/settings").status_code == 200
        clock.shift(timedelta(minutes=10))  # the original sign-in's limit
        r = browser.get("/settings")
        assert r.status_code == 302 and "/login" in r.headers["Location"]


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]* value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def test_the_forms_carry_and_need_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    user = new_user(app, "client")
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    browser.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": _csrf(page)},
    )
    fields = {"current_password": PASSWORD, "new_password": NEW}
    fields["confirm_password"] = NEW
    assert browser.post("/settings/password", data=fields).status_code == 400
    settings_page = browser.get("/settings").get_data(as_text=True)
    password_form = settings_page[settings_page.index("/settings/password") :]
    fields["csrf_token"] = _csrf(password_form)
    assert browser.post("/settings/password", data=fields).status_code == 302
    assert browser.get("/settings").status_code == 200
    anonymous = app.test_client()
    data = {"email": user.email}
    assert anonymous.post("/password/reset", data=data).status_code == 400
    data["csrf_token"] = _csrf(anonymous.get("/password/reset").get_data(as_text=True))
    assert anonymous.post("/password/reset", data=data).status_code == 200


def test_changing_needs_a_sign_in(app, client):
    r = _change(client, PASSWORD, NEW)
    assert r.status_code == 302 and "/login" in r.headers["Location"]


# --- reset by e-mail ----------------------------------------------------------------


def test_reset_answers_alike_for_known_unknown_and_inactive_addresses(
    mail_app, smtp_server, person
):
    inactive = new_user(mail_app, "therapist")
    with mail_app.app_context():
        accounts.set_active(
            db.session,
            db.session.get(User, inactive.id),
            False,
            person.id,
            origin=audit.CLI,
        )
    browser = mail_app.test_client()
    answers = {
        name: _ask_reset(browser, email)
        for name, email in {
            "known": person.email,
            "unknown": "nobody-here@example.org",
            "inactive": inactive.email,
        }.items()
    }
    bodies = {name: r.get_data(as_text=True) for name, r in answers.items()}
    assert {r.status_code for r in answers.values()} == {200}
    assert bodies["known"] == bodies["unknown"] == bodies["inactive"]
    assert "If an account uses that address, we have sent it a link" in bodies["known"]
    assert person.email not in bodies["known"]
    mailer.drain(mail_app)
    assert [m.to for m in smtp_server.messages] == [person.email]
    [message] = smtp_server.messages
    assert message.subject == "Choose a new password"
    assert "60 minutes" in message.text and "ignore this mail" in message.text
    assert LINK.search(message.html)
    # audit: the known account by id; the others without the address in clear
    rows = _audit(mail_app, "password.reset_request")
    assert [r.actor_id for r in rows] == [person.id, None, None]
    unknown = rows[1].details
    assert unknown["account"] == accounts.account_id("nobody-here@example.org")
    assert "nobody-here" not in _all_audit_text(mail_app)
    assert rows[2].details["reason"] == "inactive"


def test_the_reset_page_and_the_login_link(client):
    page = client.get("/password/reset").get_data(as_text=True)
    assert 'data-testid="reset-email"' in page and 'data-testid="reset-submit"' in page
    assert ">E-mail</label>" in page
    login = client.get("/login").get_data(as_text=True)
    assert 'href="/password/reset"' in login and "Forgot your password?" in login


def test_a_reset_link_works_once_and_ends_every_other_sign_in(
    mail_app, smtp_server, person
):
    others = OtherWays(mail_app, person)
    browser = mail_app.test_client()
    _ask_reset(browser, person.email)
    [token] = _links(mail_app, smtp_server, person.email)

    page = browser.get(f"/password/reset/{token}")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    text = page.get_data(as_text=True)
    for hook in ("password-new", "password-confirm", "password-submit"):
        assert f'data-testid="{hook}"' in text
    assert token not in text

    r = _set_new(browser, token, NEW)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert token not in r.get_data(as_text=True)
    others.assert_all_ended()
    assert _login(mail_app.test_client(), person.email, PASSWORD).status_code == 401
    assert _login(mail_app.test_client(), person.email, NEW).status_code == 302

    again = browser.get(f"/password/reset/{token}")
    assert again.status_code == 410
    gone = again.get_data(as_text=True)
    assert "no longer works" in gone and 'href="/password/reset"' in gone
    assert token not in gone
    assert _set_new(browser, token, OTHER).status_code == 410
    assert _login(mail_app.test_client(), person.email, OTHER).status_code == 401
    [row] = _audit(mail_app, "password.reset")
    assert row.actor_id == person.id
    # the notice follows the reset mail
    mailer.drain(mail_app)
    assert [m.subject for m in smtp_server.to(person.email)] == [
        "Choose a new password",
        "Your password was changed",
    ]


def test_a_refused_password_leaves_the_link_usable(mail_app, smtp_server, person):
    browser = mail_app.test_client()
    _ask_reset(browser, person.email)
    [token] = _links(mail_app, smtp_server, person.email)
    r = _set_new(browser, token, "password1234")
    assert r.status_code == 422 and "too easy to guess" in r.get_data(as_text=True)
    r = _set_new(browser, token, NEW, OTHER)
    assert r.status_code == 422 and "not the same" in r.get_data(as_text=True)
    assert _login(mail_app.test_client(), person.email, PASSWORD).status_code == 302
    assert _set_new(browser, token, NEW).status_code == 302


def test_an_expired_link_is_gone(mail_app, smtp_server, person):
    browser = mail_app.test_client()
    with time_machine.travel(START, tick=False) as clock:
        _ask_reset(browser, person.email)
        [token] = _links(mail_app, smtp_server, person.email)
        clock.shift(timedelta(minutes=59))
        assert browser.get(f"/password/reset/{token}").status_code == 200
        clock.shift(timedelta(minutes=1))
        assert browser.get(f"/password/reset/{token}").status_code == 410
        assert _set_new(browser, token, NEW).status_code == 410
    assert _login(mail_app.test_client(), person.email, PASSWORD).status_code == 302


def test_a_newer_request_voids_the_older_link(mail_app, smtp_server, person):
    browser = mail_app.test_client()
    _ask_reset(browser, person.email)
    _ask_reset(browser, person.email)
    first, second = _links(mail_app, smtp_server, person.email)
    assert browser.get(f"/password/reset/{first}").status_code == 410
    assert _set_new(browser, first, NEW).status_code == 410
    assert browser.get(f"/password/reset/{second}").status_code == 200


def test_a_change_in_settings_voids_open_reset_links(mail_app, smtp_server, person):
    _ask_reset(mail_app.test_client(), person.email)
    [token] = _links(mail_app, smtp_server, person.email)
    browser = mail_app.test_client()
    _login(browser, person.email, PASSWORD)
    assert _change(browser, PASSWORD, NEW).status_code == 302
    assert browser.get(f"/password/reset/{token}").status_code == 410


@pytest.mark.parametrize("token", ["x", "A" * 43, "A" * 300, "%00abc"])
def test_unknown_links_are_gone(client, token):
    assert client.get(f"/password/reset/{token}").status_code == 410
    assert _set_new(client, token, NEW).status_code == 410


def test_links_are_stored_as_digests_and_never_logged_or_audited(
    mail_app, smtp_server, person, caplog
):
    caplog.set_level(logging.DEBUG)
    browser = mail_app.test_client()
    answer = _ask_reset(browser, person.email)
    [token] = _links(mail_app, smtp_server, person.email)
    _set_new(browser, token, "too short")
    _set_new(browser, token, NEW)
    gone = browser.get(f"/password/reset/{token}")
    with mail_app.app_context():
        [row] = db.session.scalars(select(PasswordReset))
        assert token not in (row.token_hash, row.id)
        assert len(row.token_hash) == 64
    for secret in (token, NEW, PASSWORD):
        assert secret not in caplog.text
        assert secret not in _all_audit_text(mail_app)
    assert row.token_hash not in _all_audit_text(mail_app)
    assert token not in answer.get_data(as_text=True)
    assert token not in gone.get_data(as_text=True)


def test_a_reset_lets_the_owner_in_from_a_locked_out_address(
    mail_app, smtp_server, person
):
    address = "198.51.100.23"
    for _ in range(mail_app.config["LOCKOUT_THRESHOLD"]):
        assert (
            _login(mail_app.test_client(), person.email, "wrong", address).status_code
            == 401
        )
    assert (
        _login(mail_app.test_client(), person.email, PASSWORD, address).status_code
        == 401
    )
    browser = mail_app.test_client()
    _ask_reset(browser, person.email, address)
    [token] = _links(mail_app, smtp_server, person.email)
    r = browser.post(
        f"/password/reset/{token}",
        data={"new_password": NEW, "confirm_password": NEW},
        environ_base={"REMOTE_ADDR": address},
    )
    assert r.status_code == 302
    assert _login(mail_app.test_client(), person.email, NEW, address).status_code == 302


def test_reset_requests_are_limited_per_address_and_per_typed_account(
    make_app, monkeypatch
):
    app = make_app(AUTH_RATE_LIMIT="4 per minute")
    user = new_user(app, "therapist")
    browser = app.test_client()
    # per typed account (any spelling), known or not, from many addresses
    monkeypatch.setattr(password_views, "RESET_ACCOUNT_LIMIT", "3 per hour")

    def burst(email: str, base: int) -> list[int]:
        return [
            _ask_reset(browser, email, f"192.0.2.{base + n}").status_code
            for n in range(4)
        ]

    assert burst(user.email, 10) == [200, 200, 200, 429]
    assert burst("nobody-at-all@example.org", 20) == [200, 200, 200, 429]
    assert _ask_reset(browser, user.email.upper(), "192.0.2.99").status_code == 429
    # per client address, whatever the typed address
    monkeypatch.setattr(password_views, "RESET_ACCOUNT_LIMIT", "100 per hour")
    codes = [
        _ask_reset(browser, f"someone-{n}@example.org", "203.0.113.5").status_code
        for n in range(5)
    ]
    assert codes == [200, 200, 200, 200, 429]


ROUNDS = 20


def test_known_unknown_and_inactive_addresses_take_comparable_time(
    mail_app, monkeypatch
):
    monkeypatch.setattr(password_views, "RESET_ACCOUNT_LIMIT", "1000 per hour")
    known, inactive = new_user(mail_app, "client"), new_user(mail_app, "therapist")
    with mail_app.app_context():
        accounts.set_active(
            db.session,
            db.session.get(User, inactive.id),
            False,
            known.id,
            origin=audit.CLI,
        )
    browser = mail_app.test_client()
    cases = {
        "known": lambda n: known.email,
        "unknown": lambda n: f"nobody-{uuid.uuid4().hex[:8]}@example.org",
        "inactive": lambda n: inactive.email,
    }
    timings: dict[str, list[float]] = {name: [] for name in cases}
    for n in range(ROUNDS + 1):  # round 0 warms up
        for name, case in cases.items():
            email = case(n)
            start = time.perf_counter()
            r = _ask_reset(browser, email, f"192.0.2.{n + 1}")
            elapsed = time.perf_counter() - start
            assert r.status_code == 200
            if n:
                timings[name].append(elapsed)
    medians = {name: statistics.median(t) for name, t in timings.items()}
    assert max(medians.values()) < 1.5 * min(medians.values()), medians


@pytest.mark.parametrize(
    "typed", ["not an address", "nul\x00@example.org", "x" * 240 + "@example.org"]
)
def test_odd_addresses_get_the_same_answer(client, typed):
    r = _ask_reset(client, typed)
    assert r.status_code == 200
    assert "If an account uses that address" in r.get_data(as_text=True)
