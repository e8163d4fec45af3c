"""docs/security.md, row 7: idle and absolute timeouts that do not cut a live call."""

from datetime import timedelta

import time_machine


def _signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/client").status_code == 200


def test_idle_page_asks_to_sign_in_again(app, client, auth, make_user):
    with time_machine.travel("2026-11-26 09:00:00+00:00", tick=False) as clock:
        auth.login(make_user("client"))
        assert _signed_in(client)
        clock.shift(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
        r = client.get("/client")
        assert r.status_code == 302 and "/login" in r.headers["Location"]
        assert not _signed_in(client)


def test_a_live_call_keeps_the_login_until_the_absolute_maximum(
    app, client, auth, make_user
):
    absolute = app.config["SESSION_ABSOLUTE_HOURS"]
    with time_machine.travel("2026-11-26 09:00:00+00:00", tick=False) as clock:
        auth.login(make_user("client"))
        for _ in range(
            absolute * 6 - 1
        ):  # the call page's heartbeat, compressed to 10 minutes
            clock.shift(timedelta(minutes=10))
            assert client.get("/keepalive").status_code == 200
        assert _signed_in(client)  # hours later, still in
        clock.shift(timedelta(minutes=11))
        assert not _signed_in(client)  # past the absolute maximum


def test_activity_resets_the_idle_timer(app, client, auth, make_user):
    idle = app.config["SESSION_IDLE_MINUTES"]
    with time_machine.travel("2026-11-26 09:00:00+00:00", tick=False) as clock:
        auth.login(make_user("client"))
        for _ in range(4):
            clock.shift(timedelta(minutes=idle - 1))
            assert _signed_in(client)
