"""`teletherapy serve --host H --port P` accepts its own origin in development whatever
HOST/PORT say (docs/security.md, row 5), and the call page can ask whether the socket accepts
its origin (GET /sessions/socket-origin)."""

import pytest

import signaling
from teletherapy import create_app
from teletherapy.config import served_origins


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", ["http://127.0.0.1:8000", "http://localhost:8000"]),
        ("localhost", ["http://localhost:8000", "http://127.0.0.1:8000"]),
        (
            "0.0.0.0",  # noqa: S104 (a name to derive origins from; nothing binds)
            ["http://0.0.0.0:8000", "http://localhost:8000", "http://127.0.0.1:8000"],
        ),
        (
            "::1",
            ["http://[::1]:8000", "http://localhost:8000", "http://127.0.0.1:8000"],
        ),
        ("Clinic.Example", ["http://clinic.example:8000"]),
    ],
)
def test_served_origins_are_what_a_browser_sends(host, expected):
    assert served_origins(host, 8000) == expected


def _dev_app(tmp_path, **config):  # type: ignore[no-untyped-def]
    return create_app(
        {
            "ENV": "development",
            "ASYNC_MODE": "threading",
            "DATABASE_URL": f"sqlite:///{tmp_path}/dev.sqlite",
            "SECRET_KEY": "dev-secret",
            "PSEUDONYM_KEY": "dev-pseudonym",
            **config,
        }
    )


def _serve(app, monkeypatch, *args: str):  # type: ignore[no-untyped-def]
    served = []
    monkeypatch.setattr(signaling.socketio, "run", lambda *a, **kw: served.append(kw))
    result = app.test_cli_runner().invoke(args=["serve", *args])
    assert result.exit_code == 0, result.output
    return signaling.current_hub(app), result.output


def test_serve_accepts_its_own_origin_whatever_port_says(tmp_path, monkeypatch):
    monkeypatch.setenv("HOST", "127.0.0.1")
    monkeypatch.setenv("PORT", "5000")
    app = _dev_app(tmp_path)
    hub, output = _serve(app, monkeypatch, "--host", "127.0.0.1", "--port", "8123")
    assert hub.origin_allowed("http://127.0.0.1:8123")
    assert hub.origin_allowed("http://localhost:8123")
    assert not hub.origin_allowed("http://127.0.0.1:5000")  # what PORT said
    assert not hub.origin_allowed("https://evil.example")
    assert not hub.origin_allowed("null")
    assert "http://127.0.0.1:8123" in output


def test_serve_keeps_an_explicit_allow_list(tmp_path, monkeypatch):
    app = _dev_app(tmp_path, ALLOWED_ORIGINS=["https://clinic.example"])
    hub, _ = _serve(app, monkeypatch, "--host", "127.0.0.1", "--port", "8123")
    assert hub.origin_allowed("https://clinic.example")
    assert not hub.origin_allowed("http://127.0.0.1:8123")


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        ("http://localhost", True),
        ("HTTP://LOCALHOST/", True),
        ("https://evil.example", False),
        ("null", False),
    ],
)
def test_socket_origin_answers_with_the_sockets_own_rule(
    app, client, make_user, auth, origin, accepted
):
    auth.login(make_user("client"))
    r = client.get("/sessions/socket-origin", query_string={"origin": origin})
    assert r.status_code == 200
    assert r.get_json() == {"origin": origin, "accepted": accepted}
    assert signaling.current_hub(app).origin_allowed(origin) is accepted


@pytest.mark.parametrize("origin", [None, "", "x" * 201])
def test_socket_origin_needs_an_origin(client, make_user, auth, origin):
    auth.login(make_user("therapist"))
    query = {} if origin is None else {"origin": origin}
    r = client.get("/sessions/socket-origin", query_string=query)
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "bad_request"


def test_socket_origin_is_for_signed_in_participants(client, make_user, auth):
    assert client.get("/sessions/socket-origin?origin=x").status_code == 302
    auth.login(make_user("researcher"))
    assert client.get("/sessions/socket-origin?origin=x").status_code == 403
