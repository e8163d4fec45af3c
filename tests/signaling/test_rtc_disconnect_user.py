"""Logout and deactivation close every socket of the user (docs/security.md, row 6)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from rtc_helpers import FakePolicy, Peer, expect_error

import signaling


def test_disconnect_user_closes_all_of_that_users_sockets(
    app: Flask, connect: Any
) -> None:
    first, second, other = connect("c1"), connect("c1"), connect("t1")
    first.join()
    other.join()
    with app.app_context():
        assert signaling.disconnect_user("c1") == 2
    assert not first.connected and not second.connected
    assert other.connected
    assert other.events("peer_left") == [{"user_id": "c1", "role": "client"}]


def test_disconnect_user_tells_the_sockets_why(app: Flask, connect: Any) -> None:
    client = connect("c1")
    signaling.disconnect_user("c1", app=app)
    assert not client.connected
    raw = [(p["name"], p["args"][0]) for p in client.client.queue]
    assert raw == [("error", {"code": "signed_out", "message": raw[0][1]["message"]})]


def test_disconnect_user_without_sockets_is_a_no_op(app: Flask, connect: Any) -> None:
    other = connect("t1")
    assert signaling.disconnect_user("c1", app=app) == 0
    assert other.connected


def test_disconnected_user_leaves_no_presence(app: Flask, connect: Any) -> None:
    connect("c1").join()
    hub = signaling.current_hub(app)
    signaling.disconnect_user("c1", app=app)
    assert hub.presence.connections("c1") == set()
    assert hub.presence.holders("s1", ["c1"]) == {}
    assert hub.local_sids("c1") == set()


def test_logout_closes_the_cookie_socket_and_the_cookie_is_then_refused(
    app: Flask, http: FlaskClient
) -> None:
    http.post("/login/c1")
    cookie_socket = Peer(app, flask_test_client=http)
    token_socket = Peer(app, auth={"token": "token-c1"})
    assert cookie_socket.connected and token_socket.connected
    http.post("/logout")
    assert not cookie_socket.connected and not token_socket.connected
    assert not Peer(app, flask_test_client=http).connected


def _joined_then_t1_deactivated(connect: Any, policy: FakePolicy) -> tuple[Any, Any]:
    """Client and therapist in s1; then the therapist's account is deactivated."""
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    client.received()
    policy.inactive.add("t1")
    return client, therapist


def test_deactivated_user_is_cut_off_on_the_next_checked_event(
    connect: Any, policy: FakePolicy
) -> None:
    client, therapist = _joined_then_t1_deactivated(connect, policy)
    chat = {
        "session_id": "s1",
        "text": "hi",
        "client_msg_id": "123e4567-e89b-12d3-a456-426614174000",
    }
    expect_error(therapist.call("chat", chat), "unauthenticated")
    assert not therapist.connected
    assert policy.messages == {}
    assert client.events("peer_left") == [{"user_id": "t1", "role": "therapist"}]


def test_deactivated_user_quality_sample_is_refused_and_cut_off(
    connect: Any, policy: FakePolicy
) -> None:
    client, therapist = _joined_then_t1_deactivated(connect, policy)
    sample = {"rtt_ms": 1, "jitter_ms": 1, "packet_loss_pct": 0, "bitrate_kbps": 1}
    expect_error(
        therapist.call("quality", {"session_id": "s1", **sample}), "unauthenticated"
    )
    assert not therapist.connected
    assert policy.quality == []
    assert client.events("peer_left") == [{"user_id": "t1", "role": "therapist"}]
