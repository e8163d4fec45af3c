"""Two-factor sign-in beyond the pages (docs/security.md, row 26): API token issue asks
an enrolled account for its code (each code once, recovery codes once), and a role
that must enrol opens no /rtc socket before it has."""

from datetime import UTC, datetime

import pyotp
import pytest
import time_machine

import signaling
from teletherapy.extensions import db
from teletherapy.models import User
from teletherapy.services import audit, two_factor

from .helpers import PASSWORD

T0 = datetime(2030, 1, 7, 9, 0, 0, tzinfo=UTC)  # the start of a 30-second step


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _enrol(app, user: User) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        row = db.session.get(User, user.id)
        assert row is not None
        secret = two_factor.pending_enrolment(db.session(), row).secret
        codes = two_factor.confirm_enrolment(
            db.session(), row, pyotp.TOTP(secret).now(), origin=audit.CLI
        )
        db.session.remove()
    return secret, codes


def _token(client, user: User, **extra):  # type: ignore[no-untyped-def]
    body = {"email": user.email, "password": PASSWORD, **extra}
    return client.post("/api/v1/auth/token", json=body)


def test_an_enrolled_account_needs_its_code_for_a_token_and_each_code_works_once(
    app, client, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("therapist")
    secret, recovery = _enrol(app, user)
    clock.shift(30)  # the confirming code is spent; the next step's code is new
    missing = _token(client, user)
    assert missing.status_code == 401
    assert missing.get_json()["error"]["code"] == "totp_required"
    wrong = _token(client, user, totp_code="000000")
    assert wrong.status_code == 401
    assert wrong.get_json()["error"]["code"] == "totp_invalid"
    code = pyotp.TOTP(secret).now()
    issued = _token(client, user, totp_code=code)
    assert issued.status_code == 200 and issued.get_json()["token"]
    replay = _token(client, user, totp_code=code)
    assert replay.status_code == 401  # the same code twice
    assert _token(client, user, totp_code=recovery[0]).status_code == 200
    assert _token(client, user, totp_code=recovery[0]).status_code == 401
    # a wrong password with a right code is still refused, as before
    clock.shift(30)
    bad = client.post(
        "/api/v1/auth/token",
        json={
            "email": user.email,
            "password": "not the password at all",
            "totp_code": pyotp.TOTP(secret).now(),
        },
    )
    assert bad.status_code == 401
    assert bad.get_json()["error"]["code"] == "not_authenticated"


def test_an_account_without_a_second_factor_gets_its_token_as_before(
    client, make_user
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("client")
    assert _token(client, user).status_code == 200
    # the field is optional and ignored without enrolment; malformed it is a 422
    assert _token(client, user, totp_code="123456").status_code == 200
    r = _token(client, user, totp_code=123456)
    assert r.status_code == 422 and "totp_code" in r.get_json()["error"]["details"]


def test_a_role_that_must_enrol_opens_no_socket_before_it_has(
    make_app, make_user
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(REQUIRE_2FA_ROLES=["therapist"])
    therapist = make_user("therapist")
    web = app.test_client()
    r = web.post("/login", data={"email": therapist.email, "password": PASSWORD})
    assert r.status_code == 302
    sock = signaling.socketio.test_client(app, namespace="/rtc", flask_test_client=web)
    assert not sock.is_connected("/rtc")
    _enrol(app, therapist)
    sock = signaling.socketio.test_client(app, namespace="/rtc", flask_test_client=web)
    assert sock.is_connected("/rtc")
    sock.disconnect(namespace="/rtc")


def test_the_admin_page_offers_the_reset_for_people_with_a_second_factor(
    app, client, auth, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    admin, enrolled, plain = make_user("admin"), make_user("therapist"), make_user()
    _enrol(app, enrolled)
    auth.login(admin)
    page = client.get("/admin/").get_data(as_text=True)
    assert page.count('data-testid="reset-2fa"') == 1
    assert f"/admin/users/{enrolled.id}/2fa/reset" in page
    assert f"/admin/users/{plain.id}/2fa/reset" not in page
    r = client.post(f"/admin/users/{enrolled.id}/2fa/reset")
    assert r.status_code == 302
    assert 'data-testid="reset-2fa"' not in client.get("/admin/").get_data(as_text=True)
