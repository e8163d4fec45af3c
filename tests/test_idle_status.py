"""The idle warning's clock (auth/idle.py, docs/security.md row 7): GET
/session/remaining tells how long the login has left and is not activity; every
signed-in page carries the same numbers for static/js/idle.js."""

from datetime import timedelta

import time_machine

from tests.helpers import PASSWORD, new_user

START = "2026-11-26 09:00:00+00:00"


def _signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/client").status_code == 200


def test_remaining_counts_down_without_counting_as_activity(
    app, client, auth, make_user
):
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    absolute = app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    with time_machine.travel(START, tick=False) as clock:
        auth.login(make_user("client"))
        clock.shift(timedelta(seconds=idle - 100))
        for _ in range(3):  # asking again and again is still no activity
            r = client.get("/session/remaining")
            assert r.status_code == 200
            assert r.json == {
                "idle_seconds": 100,
                "limit_seconds": absolute - (idle - 100),
                "warning_seconds": app.config["SESSION_IDLE_WARNING_SECONDS"],
            }
        clock.shift(timedelta(seconds=100))
        r = client.get("/client")  # the idle time counted from the sign-in
        assert r.status_code == 302 and "/login" in r.headers["Location"]
        assert "because of inactivity" in client.get("/login").get_data(as_text=True)


def test_activity_shows_in_the_remaining_time(app, client, auth, make_user):
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with time_machine.travel(START, tick=False) as clock:
        auth.login(make_user("therapist"))
        clock.shift(timedelta(seconds=idle - 10))
        assert client.get("/keepalive").status_code == 200  # "Stay signed in"
        assert client.get("/session/remaining").json["idle_seconds"] == idle
        clock.shift(timedelta(seconds=idle - 1))
        assert client.get("/session/remaining").json["idle_seconds"] == 1
        assert client.get("/therapist").status_code == 200


def test_a_lapsed_login_is_signed_out_by_the_status_request_too(
    app, client, auth, make_user
):
    with time_machine.travel(START, tick=False) as clock:
        auth.login(make_user("client"))
        clock.shift(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]))
        r = client.get("/session/remaining")
        assert r.status_code == 302 and "/login" in r.headers["Location"]
        page = client.get("/login").get_data(as_text=True)
        assert "signed out because of inactivity" in page
        assert not _signed_in(client)


def test_signed_out_gets_the_sign_in_page_not_a_clock(client):
    r = client.get("/session/remaining")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_float_minutes_as_the_server_counts_them(make_app):
    app = make_app(SESSION_IDLE_MINUTES=0.2, SESSION_IDLE_WARNING_SECONDS=4)
    client = app.test_client()
    user = new_user(app, "client", None, None)
    with time_machine.travel(START, tick=False) as clock:
        r = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert r.status_code == 302, r.get_data(as_text=True)[-3000:]
        clock.shift(timedelta(seconds=11))  # 0.2 minutes are 12 s
        r = client.get("/session/remaining")
        assert r.status_code == 200, r.headers
        assert r.json["idle_seconds"] == 1 and r.json["warning_seconds"] == 4
        clock.shift(timedelta(seconds=1))
        assert client.get("/session/remaining").status_code == 302


def test_pages_carry_the_clock_and_the_call_page_is_marked(
    app, client, auth, make_user
):
    with time_machine.travel(START, tick=False) as clock:
        auth.login(make_user("client"))
        clock.shift(timedelta(seconds=20))  # under 30 s: no cookie update
        page = client.get("/client").get_data(as_text=True)
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    assert 'data-idle-mode="warn"' in page
    assert f'data-idle-left="{idle - 20}"' in page  # counted from the sign-in
    assert 'data-idle-status-url="/session/remaining"' in page
    assert 'data-testid="stay-signed-in"' in page
    assert 'role="alertdialog"' in page


def test_signed_out_pages_have_no_clock(client):
    page = client.get("/login").get_data(as_text=True)
    assert "data-idle-mode" not in page and "alertdialog" not in page
