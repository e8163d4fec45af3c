"""Two-factor sign-in (TOTP, RFC 6238): enrolment, the code step, replay and
recovery codes, roles that must use it, the administrator's reset."""

import hashlib
import logging
import re
import time
from datetime import UTC, datetime

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from teletherapy.extensions import db
from teletherapy.models import AuditEvent, RecoveryCode, User
from teletherapy.services import two_factor

from .helpers import PASSWORD

# The start of a 30-second step, so a test's few seconds stay inside it
T0 = datetime(2030, 1, 7, 9, 0, 0, tzinfo=UTC)
STEP = 30


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    """The whole test at T0, time stands still until the test shifts it."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _secret_from(page: str) -> str:
    found = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page)
    assert found, page
    return found.group(1).replace(" ", "")


def _codes_from(page: str) -> list[str]:
    return re.findall(
        r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>", page
    )


def _enrol(client, auth, user) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Sign in with the password, enrol; the secret and the recovery codes."""
    auth.login(user)
    secret = _secret_from(client.get("/settings/2fa").get_data(as_text=True))
    r = client.post("/settings/2fa/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200, r.get_data(as_text=True)
    codes = _codes_from(r.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _password_step(client, user):  # type: ignore[no-untyped-def]
    r = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/code"), r
    return r


def _code_step(client, code: str):  # type: ignore[no-untyped-def]
    return client.post("/login/code", data={"code": code})


def _user(app, user_id: str) -> User:  # type: ignore[no-untyped-def]
    with app.app_context():
        found = db.session.get(User, user_id)
        assert found is not None
        db.session.expunge(found)
        return found


def _audit(app, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows


def _enrolled(client, auth, user, clock):  # type: ignore[no-untyped-def]
    """Enrolled and signed out, one step later (the confirming code is spent)."""
    secret, codes = _enrol(client, auth, user)
    auth.logout()
    clock.shift(STEP)
    return secret, codes


# --- enrolment -------------------------------------------------------------------


def test_enrolment_shows_qr_and_secret_wants_a_right_code_and_shows_codes_once(
    app, client, auth, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("client")
    auth.login(user)
    page = client.get("/settings/2fa").get_data(as_text=True)
    assert "<svg" in page and 'data-testid="totp-qr"' in page and "<img" not in page
    secret = _secret_from(page)
    assert _user(app, user.id).pending_totp_secret == secret
    assert _user(app, user.id).totp_secret is None
    # the same pending secret on a second visit (the phone already has it)
    assert _secret_from(client.get("/settings/2fa").get_data(as_text=True)) == secret

    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    r = client.post("/settings/2fa/confirm", data={"code": wrong})
    assert r.status_code == 422
    assert "did not match" in r.get_data(as_text=True)
    assert _user(app, user.id).totp_secret is None

    r = client.post("/settings/2fa/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    codes = _codes_from(page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "only time they are shown" in page
    stored = _user(app, user.id)
    assert stored.totp_secret == secret and stored.pending_totp_secret is None

    with app.app_context():
        hashes = set(
            db.session.scalars(
                select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
            )
        )
    compact = [c.replace("-", "") for c in codes]
    assert hashes == {hashlib.sha256(c.encode()).hexdigest() for c in compact}

    again = client.get("/settings/2fa").get_data(as_text=True)
    assert 'data-testid="two-factor-on"' in again
    assert "10 unused recovery codes" in again
    assert not any(c in again for c in codes) and secret not in again
    assert len(_audit(app, "2fa.enrol")) == 1
    assert [r.details["stage"] for r in _audit(app, "2fa.failed")] == ["enrol"]


# --- signing in ------------------------------------------------------------------


def test_sign_in_needs_a_code_and_a_code_works_once(
    app, client, auth, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("therapist")
    secret, _ = _enrolled(client, auth, user, clock)

    _password_step(client, user)
    code = pyotp.TOTP(secret).now()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = _code_step(client, wrong)
    assert r.status_code == 401
    assert "did not work" in r.get_data(as_text=True)
    r = _code_step(client, code)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert client.get("/therapist").status_code == 200
    auth.logout()

    # the same code again, in the same 30-second step: refused (replay)
    clock.shift(5)
    _password_step(client, user)
    r = _code_step(client, code)
    assert r.status_code == 401
    assert client.get("/therapist").status_code == 302
    # the next step's code works
    clock.shift(STEP)
    r = _code_step(client, pyotp.TOTP(secret).now())
    assert r.status_code == 302
    assert client.get("/therapist").status_code == 200

    used = _audit(app, "2fa.used")
    assert [r.details["method"] for r in used] == ["totp", "totp"]
    assert len(_audit(app, "login")) == 3  # the enrolment's password login + two


def test_a_code_of_an_earlier_step_than_the_last_used_is_refused(
    app, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("client")
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    with app.app_context():
        row = db.session.get(User, user.id)
        row.totp_secret = secret
        db.session.commit()
        now = time.time()
        earlier = totp.at(now - STEP)  # still inside the window
        assert two_factor.verify_second_factor(db.session, row, totp.at(now))
        assert not two_factor.verify_second_factor(db.session, row, earlier)
        assert not two_factor.verify_second_factor(db.session, row, totp.at(now))
        assert row.totp_last_step == two_factor.current_step(now)
        # two steps away is outside the window
        clock.shift(3 * STEP)
        assert not two_factor.verify_second_factor(db.session, row, totp.at(now))
        assert two_factor.verify_second_factor(db.session, row, totp.now())


def test_two_sign_ins_racing_with_one_code_let_one_in(app, make_user, clock) -> None:  # type: ignore[no-untyped-def]
    """The step is claimed in the database (a conditional UPDATE), not judged from
    a copy of the user loaded before the other request stored it."""
    from sqlalchemy.orm import Session

    user = make_user("client")
    secret = pyotp.random_base32()
    with app.app_context():
        row = db.session.get(User, user.id)
        row.totp_secret = secret
        db.session.commit()
        code = pyotp.TOTP(secret).now()
        with Session(db.engine) as first, Session(db.engine) as second:
            mine, theirs = first.get(User, user.id), second.get(User, user.id)
            assert mine.totp_last_step is None and theirs.totp_last_step is None
            assert two_factor.verify_second_factor(first, mine, code)
            assert not two_factor.verify_second_factor(second, theirs, code)


def test_verify_second_factor_pauses_after_ten_wrong_codes_in_an_hour(
    app, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    """What the API's token issue calls: the same pause as the web's code step."""
    user = make_user("researcher")
    secret = pyotp.random_base32()
    with app.app_context():
        row = db.session.get(User, user.id)
        row.totp_secret = secret
        db.session.commit()
        for _ in range(10):
            assert not two_factor.verify_second_factor(db.session, row, "000000")
        clock.shift(STEP)
        assert not two_factor.verify_second_factor(
            db.session, row, pyotp.TOTP(secret).now()
        )
        clock.shift(3600)
        assert two_factor.verify_second_factor(
            db.session, row, pyotp.TOTP(secret).now()
        )
    assert len(_audit(app, "2fa.paused")) == 1
    assert len(_audit(app, "2fa.failed")) == 10


def test_a_recovery_code_works_once(app, client, auth, make_user, clock) -> None:  # type: ignore[no-untyped-def]
    user = make_user("client")
    _, codes = _enrolled(client, auth, user, clock)

    _password_step(client, user)
    r = _code_step(client, codes[3].upper().replace("-", " "))  # typed loosely
    assert r.status_code == 302
    assert client.get("/client").status_code == 200
    auth.logout()

    _password_step(client, user)
    assert _code_step(client, codes[3]).status_code == 401
    assert client.get("/client").status_code == 302
    assert [r.details["method"] for r in _audit(app, "2fa.used")] == ["recovery"]
    with app.app_context():
        used = db.session.scalars(
            select(RecoveryCode.used_at).where(RecoveryCode.user_id == user.id)
        )
        assert sum(1 for u in used if u is not None) == 1


def test_five_wrong_codes_end_the_pending_sign_in(
    app, client, auth, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("client")
    secret, _ = _enrolled(client, auth, user, clock)
    _password_step(client, user)
    halfway = client.get_cookie("session")
    assert halfway is not None
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert _code_step(client, wrong).status_code == 401
    r = _code_step(client, wrong)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    clock.shift(61)  # past the rate limit's minute
    # the marker is gone: even a right code leads back to the password
    r = _code_step(client, pyotp.TOTP(secret).now())
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    # a replayed copy of the halfway cookie is refused too (counted server-side)
    client.set_cookie("session", halfway.value)
    r = _code_step(client, pyotp.TOTP(secret).now())
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert client.get("/client").status_code == 302
    assert len(_audit(app, "2fa.failed")) == 5
    assert not _audit(app, "2fa.used")


def test_many_wrong_codes_in_an_hour_pause_the_code_step(
    app, client, auth, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("client")
    secret, _ = _enrolled(client, auth, user, clock)
    for _ in range(2):  # two sign-ins, five wrong codes each
        _password_step(client, user)
        for _ in range(5):
            _code_step(client, "000000")
        clock.shift(61)
    _password_step(client, user)
    r = _code_step(client, pyotp.TOTP(secret).now())
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert client.get("/client").status_code == 302
    page = client.get("/login").get_data(as_text=True)
    assert "paused for up to an hour" in page
    clock.shift(3600)
    _password_step(client, user)
    assert _code_step(client, pyotp.TOTP(secret).now()).status_code == 302
    assert client.get("/client").status_code == 200


def test_codes_are_rate_limited(app, client, auth, make_user, clock) -> None:  # type: ignore[no-untyped-def]
    user = make_user("client")
    _enrolled(client, auth, user, clock)
    _password_step(client, user)
    statuses = [_code_step(client, "000000").status_code for _ in range(7)]
    assert statuses[:4] == [401] * 4
    assert statuses[5:] == [429, 429]


def test_the_pending_sign_in_lasts_five_minutes(
    app, client, auth, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("client")
    secret, _ = _enrolled(client, auth, user, clock)
    _password_step(client, user)
    assert client.get("/login/code").status_code == 200
    clock.shift(301)
    r = _code_step(client, pyotp.TOTP(secret).now())
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert client.get("/client").status_code == 302


def test_the_password_step_alone_opens_no_page(
    app, client, auth, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("therapist")
    _enrolled(client, auth, user, clock)
    _password_step(client, user)
    page = client.get("/login/code").get_data(as_text=True)
    assert 'data-testid="totp-code"' in page and 'data-testid="totp-submit"' in page
    for path in ("/", "/therapist", "/settings", "/settings/2fa", "/consent"):
        r = client.get(path)
        assert r.status_code == 302, path
        assert r.headers["Location"].startswith("/login"), path
    assert client.post("/settings/2fa/disable", data={}).status_code == 302
    assert client.post("/keepalive").status_code in (302, 401, 405)


def test_next_is_kept_through_the_code_step(
    app, client, auth, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("client")
    secret, _ = _enrolled(client, auth, user, clock)
    client.post(
        "/login?next=/consent", data={"email": user.email, "password": PASSWORD}
    )
    r = _code_step(client, pyotp.TOTP(secret).now())
    assert r.headers["Location"] == "/consent"


# --- roles that must use it ------------------------------------------------------

GATED_PAGES = (
    "/",
    "/therapist",
    "/client",
    "/researcher",
    "/settings",
    "/admin/",
    "/admin/audit",
    "/research/",
    "/consent",
    "/sessions/00000000-0000-0000-0000-000000000000",
    "/sessions/00000000-0000-0000-0000-000000000000/rating",
    "/sessions/waiting",
)


def test_a_role_that_requires_it_reaches_only_enrolment(
    make_app, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(REQUIRE_2FA_ROLES=["therapist"])
    client = app.test_client()
    therapist = make_user("therapist")
    r = client.post("/login", data={"email": therapist.email, "password": PASSWORD})
    assert r.status_code == 302
    for path in GATED_PAGES:
        r = client.get(path)
        assert r.status_code == 302, path
        assert r.headers["Location"] == "/settings/2fa", path
    page = client.get("/settings/2fa", follow_redirects=True).get_data(as_text=True)
    assert "Your role needs two-step sign-in" in page
    assert client.post("/sessions/", data={}).headers["Location"] == "/settings/2fa"

    token = client.post(
        "/api/v1/auth/token",
        json={"email": therapist.email, "password": PASSWORD},
    ).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/me", "/api/v1/sessions"):
        r = client.get(path, headers=bearer)
        assert r.status_code == 403, path
        assert r.get_json()["error"]["code"] == "two_factor_required"

    # a client (not listed) is not asked
    patient = make_user("client")
    other = app.test_client()
    other.post("/login", data={"email": patient.email, "password": PASSWORD})
    assert other.get("/client").status_code == 200

    secret = _secret_from(client.get("/settings/2fa").get_data(as_text=True))
    r = client.post("/settings/2fa/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200
    for path in ("/", "/therapist", "/settings", "/settings/2fa"):
        assert client.get(path).status_code in (200, 302), path
    assert client.get("/therapist").status_code == 200
    assert client.get("/settings").status_code == 200
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    # and it cannot be turned off, only set up again
    page = client.get("/settings/2fa").get_data(as_text=True)
    assert "cannot be turned off" in page
    clock.shift(STEP)
    r = client.post(
        "/settings/2fa/disable",
        data={
            "disable-password": PASSWORD,
            "disable-code": pyotp.TOTP(secret).now(),
        },
    )
    assert r.status_code == 302
    assert _user(app, therapist.id).totp_secret is None
    page = client.get("/settings/2fa").get_data(as_text=True)
    assert _secret_from(page) != secret  # a new secret to scan right away
    assert client.get("/therapist").headers["Location"] == "/settings/2fa"
    assert _audit(app, "2fa.disable")[0].details["again"] is True


def test_turning_it_off_needs_the_password_and_a_code(
    app, client, auth, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("client")
    secret, _ = _enrolled(client, auth, user, clock)
    _password_step(client, user)
    assert _code_step(client, pyotp.TOTP(secret).now()).status_code == 302
    clock.shift(STEP)
    code = pyotp.TOTP(secret).now()
    r = client.post(
        "/settings/2fa/disable",
        data={"disable-password": "not my password at all", "disable-code": code},
    )
    assert r.status_code == 422 and "not your password" in r.get_data(as_text=True)
    r = client.post(
        "/settings/2fa/disable",
        data={"disable-password": PASSWORD, "disable-code": "123456"},
    )
    assert r.status_code == 422 and "did not work" in r.get_data(as_text=True)
    assert _user(app, user.id).totp_secret == secret
    r = client.post(
        "/settings/2fa/disable",
        data={"disable-password": PASSWORD, "disable-code": code},
    )
    assert r.status_code == 302
    stored = _user(app, user.id)
    assert stored.totp_secret is None
    with app.app_context():
        assert not list(
            db.session.scalars(
                select(RecoveryCode).where(RecoveryCode.user_id == user.id)
            )
        )
    auth.logout()
    r = auth.login(user)  # the password alone again
    assert r.status_code == 302 and r.headers["Location"] == "/"
    reasons = [r.details["reason"] for r in _audit(app, "2fa.failed")]
    assert reasons == ["password", "code"]


def test_new_recovery_codes_replace_the_old(
    app, client, auth, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("client")
    secret, old = _enrol(client, auth, user)
    clock.shift(STEP)
    r = client.post(
        "/settings/2fa/recovery-codes",
        data={"codes-password": PASSWORD, "codes-code": pyotp.TOTP(secret).now()},
    )
    assert r.status_code == 200
    new = _codes_from(r.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    auth.logout()
    _password_step(client, user)
    assert _code_step(client, old[0]).status_code == 401
    assert _code_step(client, new[0]).status_code == 302


# --- the administrator's reset ---------------------------------------------------


def test_admin_reset_clears_the_factor_and_ends_the_logins(
    app, client, auth, make_user, clock
) -> None:  # type: ignore[no-untyped-def]
    therapist = make_user("therapist")
    secret, _ = _enrolled(client, auth, therapist, clock)
    _password_step(client, therapist)
    assert _code_step(client, pyotp.TOTP(secret).now()).status_code == 302
    assert client.get("/therapist").status_code == 200

    admin = make_user("admin")
    admin_client = app.test_client()
    admin_client.post("/login", data={"email": admin.email, "password": PASSWORD})
    # not for anyone but an administrator
    assert client.post(f"/admin/users/{therapist.id}/2fa/reset").status_code == 403
    r = admin_client.post(f"/admin/users/{therapist.id}/2fa/reset")
    assert r.status_code == 302 and r.headers["Location"] == "/admin/"
    stored = _user(app, therapist.id)
    assert stored.totp_secret is None and stored.totp_last_step is None
    with app.app_context():
        assert not list(
            db.session.scalars(
                select(RecoveryCode).where(RecoveryCode.user_id == therapist.id)
            )
        )
    r = client.get("/therapist")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    (row,) = _audit(app, "2fa.reset")
    assert row.actor_id == admin.id and row.target_id == therapist.id
    # the password alone signs them in again (no role here requires a factor)
    assert auth.login(therapist).headers["Location"] == "/"
    r = admin_client.post("/admin/users/no-such-user/2fa/reset")
    assert r.status_code == 302


def test_admin_reset_needs_the_csrf_token(make_app, make_user) -> None:  # type: ignore[no-untyped-def]
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    admin, other = make_user("admin"), make_user("client")
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert csrf
    client.post(
        "/login",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf[1]},
    )
    r = client.post(f"/admin/users/{other.id}/2fa/reset")
    assert r.status_code in (302, 400)
    assert not _audit(app, "2fa.reset")
    # with the token the admin page's forms carry (action_form.hidden_tag())
    page = client.get("/admin/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert csrf
    r = client.post(f"/admin/users/{other.id}/2fa/reset", data={"csrf_token": csrf[1]})
    assert r.status_code == 302
    assert len(_audit(app, "2fa.reset")) == 1


# --- nothing secret is written down ----------------------------------------------


def test_no_secret_or_code_in_audit_rows_or_logs(
    app, client, auth, make_user, clock, caplog
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    user = make_user("client")
    secret, codes = _enrolled(client, auth, user, clock)
    seen = [secret]
    _password_step(client, user)
    _code_step(client, "000000")
    code = pyotp.TOTP(secret).now()
    seen.append(code)
    _code_step(client, code)
    auth.logout()
    _password_step(client, user)
    _code_step(client, codes[0])
    auth.logout()
    _password_step(client, user)
    _code_step(client, codes[0])
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent)))
        written = " ".join(f"{r.action} {r.target_id} {r.ip} {r.details}" for r in rows)
    assert {"2fa.enrol", "2fa.used", "2fa.failed", "login"} <= {r.action for r in rows}
    for value in [*seen, *codes, *(c.replace("-", "") for c in codes)]:
        assert value not in written
        assert value not in caplog.text
