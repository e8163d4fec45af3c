"""SECURITY.md #1 for sockets: every /rtc event × every role, generated from the tables."""

import uuid

import pytest

import signaling
from signaling.events import ACTIONS
from signaling.policy import Principal
from teletherapy.access import SOCKET_ACCESS
from teletherapy.rtc_policy import RtcPolicy

ROLES = ["therapist", "client", "researcher", "admin"]


def test_every_socket_event_has_a_policy_entry():
    assert set(ACTIONS) | {"connect"} == set(SOCKET_ACCESS)


@pytest.mark.parametrize("role", ROLES)
def test_connect_follows_the_table(app, make_user, token_for, role):
    token = token_for(make_user(role))["Authorization"].split()[1]
    sock = signaling.socketio.test_client(app, namespace="/rtc", auth={"token": token})
    assert sock.is_connected("/rtc") == (role in SOCKET_ACCESS["connect"])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("event", sorted(ACTIONS))
def test_policy_answers_every_event_from_the_table(app, role, event):
    allowed = RtcPolicy(app).allows(Principal(str(uuid.uuid4()), role), event)
    assert allowed == (role in SOCKET_ACCESS[event])


def test_a_client_may_not_end_even_a_session_it_has_joined(app, make_user, token_for):
    from .helpers import pair, session_for

    therapist, patient = pair(app, make_user)
    s = session_for(app, therapist, patient)
    token = token_for(patient)["Authorization"].split()[1]
    sock = signaling.socketio.test_client(app, namespace="/rtc", auth={"token": token})
    assert sock.emit("join", {"session_id": s.id}, namespace="/rtc", callback=True)[
        "ok"
    ]
    ack = sock.emit("end", {"session_id": s.id}, namespace="/rtc", callback=True)
    assert ack == {
        "ok": False,
        "error": {"code": "forbidden", "message": "your role may not send 'end'"},
    }
