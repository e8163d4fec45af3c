"""docs/security.md, row 21, with the real policy, a real token and a real login cookie:
a socket lives no longer than the credential that opened it; and row 14's limits on
connects per address and open sockets per account."""

import time
import uuid
from datetime import timedelta

import pytest
import time_machine
from limits import parse
from socketio import packet
from sqlalchemy import select

import signaling
from signaling.policy import Denied
from teletherapy import web_auth
from teletherapy.extensions import db
from teletherapy.models import ApiToken, ChatMessage, User
from teletherapy.rtc_policy import RtcPolicy
from teletherapy.services import accounts, audit, chat, tokens

from .conftest import PASSWORD
from .helpers import pair, session_for

NS = "/rtc"
START = "2026-11-26 09:00:00+00:00"
SECRET = "private words"


def _issue(client, user) -> str:  # type: ignore[no-untyped-def]
    body = {"email": user.email, "password": PASSWORD}
    r = client.post("/api/v1/auth/token", json=body)
    assert r.status_code == 200, r.get_json()
    return str(r.get_json()["token"])


def _socket(app, token=None, http=None):  # type: ignore[no-untyped-def]
    return signaling.socketio.test_client(
        app,
        namespace=NS,
        flask_test_client=http,
        auth={"token": token} if token else None,
    )


def _join(sock, session_id):  # type: ignore[no-untyped-def]
    return sock.emit("join", {"session_id": session_id}, namespace=NS, callback=True)


def _errors(sock) -> list:  # type: ignore[no-untyped-def]
    return [p["args"][0] for p in sock.queue if p["name"] == "error"]


def _closed_soon(sock, seconds: float = 2.0) -> bool:  # type: ignore[no-untyped-def]
    """Whether the socket closes within ``seconds`` (polled, real time)."""
    deadline = time.monotonic() + seconds
    while sock.is_connected(NS) and time.monotonic() < deadline:
        time.sleep(0.01)
    return not sock.is_connected(NS)


def _stored_texts(app, session_id) -> list[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.scalars(
            select(ChatMessage).where(ChatMessage.session_id == session_id)
        )
        return [m.text for m in rows]


@pytest.fixture
def talk(app, make_user):  # type: ignore[no-untyped-def]
    """A session of (therapist, client) whose chat already holds SECRET."""
    therapist, patient = pair(app, make_user)
    s = session_for(app, therapist, patient)
    with app.app_context():
        chat.record(db.session, s.id, therapist.id, SECRET, str(uuid.uuid4()))
    return s, therapist, patient


def _no_more_chat(app, sock, session_id) -> None:  # type: ignore[no-untyped-def]
    """The old socket can neither join nor chat, and nothing new was stored."""
    assert not sock.is_connected(NS)
    with pytest.raises(RuntimeError, match="not connected"):
        _join(sock, session_id)
    assert _stored_texts(app, session_id) == [SECRET]


def test_revoking_a_token_closes_the_sockets_it_opened(app, client, auth, talk):
    s, _therapist, patient = talk
    token = _issue(client, patient)
    sock = _socket(app, token=token)
    assert [m["text"] for m in _join(sock, s.id)["chat"]] == [SECRET]
    auth.login(patient)
    cookie_sock = _socket(app, http=client)  # another credential of the same person
    r = client.delete(
        "/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 204
    assert _closed_soon(sock)
    assert [e["code"] for e in _errors(sock)] == ["signed_out"]
    _no_more_chat(app, sock, s.id)
    assert not _socket(app, token=token).is_connected(NS)
    assert cookie_sock.is_connected(NS) and _join(cookie_sock, s.id)["ok"]


def test_join_rechecks_a_token_revoked_elsewhere(app, client, talk):
    s, _therapist, patient = talk
    token = _issue(client, patient)
    sock = _socket(app, token=token)
    assert _join(sock, s.id)["ok"]
    sock.emit("leave", {"session_id": s.id}, namespace=NS, callback=True)
    with app.app_context():  # revoked without the view: no disconnect was sent
        row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == patient.id))
        tokens.revoke(db.session, row, origin=audit.CLI)
    ack = _join(sock, s.id)
    assert ack["ok"] is False and ack["error"]["code"] == "unauthenticated"
    assert "chat" not in ack
    assert _closed_soon(sock)
    assert [e["code"] for e in _errors(sock)] == ["signed_out"]
    _no_more_chat(app, sock, s.id)


def test_an_expired_token_closes_its_socket(app, client, talk):
    s, _therapist, patient = talk
    ttl = app.config["TOKEN_TTL_HOURS"]
    with time_machine.travel(START, tick=False) as clock:
        token = _issue(client, patient)
        sock = _socket(app, token=token)
        assert _join(sock, s.id)["ok"]
        clock.shift(timedelta(hours=ttl, minutes=-1))
        assert not _closed_soon(sock, 1.0)  # still valid: nothing closes early
        clock.shift(timedelta(minutes=1))
        assert _closed_soon(sock)
        assert [e["code"] for e in _errors(sock)] == ["session_expired"]
        _no_more_chat(app, sock, s.id)
        assert not _socket(app, token=token).is_connected(NS)


def test_the_policy_rechecks_revoked_and_expired_tokens(app, client, make_user):
    user = make_user("client")
    policy = RtcPolicy(app)
    with time_machine.travel(START, tick=False) as clock:
        token = _issue(client, user)
        with app.test_request_context():
            principal = policy.identify({"token": token})
            assert principal is not None and policy.check_credential(principal) is None
            clock.shift(timedelta(hours=app.config["TOKEN_TTL_HOURS"]))
            expired = policy.check_credential(principal)
            clock.shift(timedelta(hours=-1))
            tokens.revoke(
                db.session,
                db.session.get(ApiToken, _token_id(principal)),
                origin=web_auth.origin(),
            )
            revoked = policy.check_credential(principal)
    # past expires_at signaling itself refuses (session_expired) before asking
    assert isinstance(expired, Denied) and expired.code == "signed_out"
    assert isinstance(revoked, Denied) and revoked.code == "signed_out"


def _token_id(principal) -> str:  # type: ignore[no-untyped-def]
    kind, _, token_id = principal.credential.partition(":")
    assert kind == "token"
    return token_id


def test_an_idle_cookie_cannot_open_a_socket(app, client, auth, talk):
    s, _therapist, patient = talk
    idle = app.config["SESSION_IDLE_MINUTES"]
    with time_machine.travel(START, tick=False) as clock:
        auth.login(patient)
        live = _socket(app, http=client)
        assert _join(live, s.id)["ok"]
        clock.shift(timedelta(minutes=idle + 1))
        assert not _socket(app, http=client).is_connected(NS)
        # the open call is the activity: it goes on, as the page's heartbeat would
        assert live.is_connected(NS) and _join(live, s.id)["ok"]
        assert client.get("/client").status_code == 302  # pages agree: idle


def test_a_live_call_ends_at_the_absolute_maximum(app, client, auth, talk):
    s, _therapist, patient = talk
    absolute = app.config["SESSION_ABSOLUTE_HOURS"]
    with time_machine.travel(START, tick=False) as clock:
        auth.login(patient)
        early = _socket(app, http=client)
        assert _join(early, s.id)["ok"]
        for _ in range(absolute * 6 - 1):  # the call page's heartbeat, compressed
            clock.shift(timedelta(minutes=10))
            assert client.get("/keepalive").status_code == 200
        late = _socket(app, http=client)  # the heartbeat kept the cookie fresh
        assert late.is_connected(NS) and early.is_connected(NS)
        clock.shift(timedelta(minutes=10))
        for sock in (early, late):
            assert _closed_soon(sock)
            assert _errors(sock) == [
                {
                    "code": "session_expired",
                    "message": "your sign-in reached its time limit; sign in again",
                }
            ]
            _no_more_chat(app, sock, s.id)
        assert not _socket(app, http=client).is_connected(NS)


def test_join_rechecks_a_cookie_login_that_ended_elsewhere(app, client, auth, talk):
    s, _therapist, patient = talk
    auth.login(patient)
    sock = _socket(app, http=client)
    assert _join(sock, s.id)["ok"]
    with app.app_context():  # e.g. a logout in a process whose disconnect was lost
        accounts.rotate_nonce(db.session, db.session.get(User, patient.id))
        db.session.commit()
    ack = _join(sock, s.id)
    assert ack["ok"] is False and "chat" not in ack
    assert _closed_soon(sock)
    assert [e["code"] for e in _errors(sock)] == ["signed_out"]


class _Refusals:
    """Records the data of every CONNECT_ERROR the server builds."""

    def __init__(self, monkeypatch, app) -> None:  # type: ignore[no-untyped-def]
        seen: list[object] = []
        self.seen = seen

        class Recording(packet.Packet):
            def __init__(self, packet_type=packet.EVENT, data=None, **kwargs):  # type: ignore[no-untyped-def]
                if packet_type == packet.CONNECT_ERROR:
                    seen.append(data)
                super().__init__(packet_type, data, **kwargs)

        monkeypatch.setattr(signaling.socketio.server, "packet_class", Recording)


def test_connects_are_limited_per_address(app, client, make_user, monkeypatch):
    refusals = _Refusals(monkeypatch, app)
    token = _issue(client, make_user("client"))
    allowed = parse(app.config["RTC_CONNECT_RATE_LIMIT"]).amount
    for _ in range(allowed):  # failed attempts count too
        assert not _socket(app, token="not-a-token").is_connected(NS)
    assert not _socket(app, token=token).is_connected(NS)
    assert refusals.seen[-1] == {
        "message": "rate_limited",
        "data": {
            "code": "rate_limited",
            "message": refusals.seen[-1]["data"]["message"],
        },
    }
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert _socket(app, token=token, http=elsewhere).is_connected(NS)


def test_open_sockets_are_limited_per_account(app, client, make_user, monkeypatch):
    refusals = _Refusals(monkeypatch, app)
    token, other = _issue(client, make_user("client")), _issue(client, make_user())
    most = app.config["RTC_MAX_SOCKETS_PER_USER"]
    socks = [_socket(app, token=token) for _ in range(most)]
    assert all(s.is_connected(NS) for s in socks)
    assert not _socket(app, token=token).is_connected(NS)
    assert refusals.seen[-1]["data"]["code"] == "too_many_connections"
    assert _socket(app, token=other).is_connected(NS)  # other people unaffected
    socks[0].disconnect(namespace=NS)
    assert _socket(app, token=token).is_connected(NS)
