"""Connecting to /rtc: credentials and Origin (docs/security.md, rows 4 and 5)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rtc_helpers import ORIGIN, FakeClock, FakePolicy, Peer, make_app


def test_connect_without_credentials_is_refused(connect: Any) -> None:
    assert not connect().connected


def test_connect_with_forged_token_is_refused(connect: Any) -> None:
    assert not connect(auth={"token": "token-t1-forged"}).connected


@pytest.mark.parametrize("auth", [{"token": 42}, {"token": None}, {}, {"tok": "x"}])
def test_connect_with_malformed_auth_is_refused(connect: Any, auth: Any) -> None:
    assert not connect(auth=auth).connected


def test_connect_with_token_in_auth_is_accepted(connect: Any) -> None:
    assert connect("t1").connected


def test_inactive_user_token_is_refused(connect: Any, policy: FakePolicy) -> None:
    policy.inactive.add("t1")
    assert not connect("t1").connected


def test_connect_with_login_cookie_is_accepted(app: Flask, http: FlaskClient) -> None:
    assert http.post("/login/c1").status_code == 200
    peer = Peer(app, flask_test_client=http)
    assert peer.connected
    assert peer.join()["self"] == {"user_id": "c1", "role": "client"}


def test_identify_that_raises_refuses_the_connection(
    connect: Any, policy: FakePolicy
) -> None:
    policy.fail.add("identify")
    assert not connect("t1").connected


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": ""},
        {"Origin": "https://app.example.evil.example"},
        {"Origin": "http://app.example"},
        {"Origin": "https://evil.example", "X-Forwarded-Host": "evil.example"},
        {"Origin": "https://evil.example", "Host": "evil.example"},
    ],
)
def test_foreign_null_or_spoofed_origin_is_refused(
    connect: Any, policy: FakePolicy, headers: dict[str, str]
) -> None:
    assert not connect("t1", headers=headers).connected
    assert "identify" not in policy.calls  # refused before credentials are read


@pytest.mark.parametrize(
    "headers", [None, {"Origin": ORIGIN}, {"Origin": ORIGIN + "/"}]
)
def test_allowed_or_missing_origin_is_accepted(connect: Any, headers: Any) -> None:
    assert connect("t1", headers=headers).connected


def test_empty_allow_list_still_refuses_browser_origins(
    policy: FakePolicy, clock: FakeClock
) -> None:
    app = make_app(policy, clock, ALLOWED_ORIGINS=[])
    refused = Peer(app, auth={"token": "token-t1"}, headers={"Origin": ORIGIN})
    assert not refused.connected
    assert Peer(app, auth={"token": "token-t1"}).connected


def test_allowed_origins_may_come_as_a_comma_separated_string(
    policy: FakePolicy, clock: FakeClock
) -> None:
    app = make_app(policy, clock, ALLOWED_ORIGINS=f"https://a.example, {ORIGIN}")
    assert Peer(app, auth={"token": "token-t1"}, headers={"Origin": ORIGIN}).connected


# --- engine.io level: the real WSGI handshake, before any Socket.IO handler ---


def _handshake(http: FlaskClient, headers: dict[str, str] | None = None) -> Any:
    return http.get("/socket.io/?EIO=4&transport=polling", headers=headers or {})


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "https://app.example.evil.example"]
)
def test_engineio_handshake_with_foreign_origin_is_refused(
    http: FlaskClient, origin: str
) -> None:
    response = _handshake(http, {"Origin": origin, "X-Forwarded-Host": "evil.example"})
    assert response.status_code == 400
    assert "Access-Control-Allow-Origin" not in response.headers


def test_engineio_handshake_without_origin_is_accepted(http: FlaskClient) -> None:
    response = _handshake(http)
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("0{")


def test_engineio_handshake_with_allowed_origin_is_accepted(http: FlaskClient) -> None:
    response = _handshake(http, {"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
