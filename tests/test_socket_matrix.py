"""docs/security.md, row 1, for sockets: every /rtc event × every role against a hand-written
table (the specification, docs/signaling.md), not against teletherapy.access."""

import uuid

import pytest

import signaling
from signaling.events import ACTIONS
from signaling.policy import Principal
from teletherapy.rtc_policy import RtcPolicy

ROLES = ("therapist", "client", "researcher", "admin")
Y, N = True, False
# Who may open /rtc and send each event. Written by hand from the specification: only
# the two people of a session are on a call, and only the therapist ends it. A new
# event without a row here fails test_the_table_has_a_row_for_every_socket_event.
SPEC: dict[str, tuple[bool, bool, bool, bool]] = {
    #          therapist client researcher admin
    "connect": (Y, Y, N, N),
    "join": (Y, Y, N, N),
    "signal": (Y, Y, N, N),
    "chat": (Y, Y, N, N),
    "quality": (Y, Y, N, N),
    "media_mode": (Y, Y, N, N),
    "leave": (Y, Y, N, N),
    "end": (Y, N, N, N),
}
CASES = [(e, r, SPEC[e][i]) for e in sorted(SPEC) for i, r in enumerate(ROLES)]


def test_the_table_has_a_row_for_every_socket_event():
    assert set(SPEC) == set(ACTIONS) | {"connect"}


@pytest.mark.parametrize(
    ("role", "allowed"), [(r, a) for e, r, a in CASES if e == "connect"]
)
def test_connect_follows_the_table(app, make_user, token_for, role, allowed):
    token = token_for(make_user(role))["Authorization"].split()[1]
    sock = signaling.socketio.test_client(app, namespace="/rtc", auth={"token": token})
    assert sock.is_connected("/rtc") == allowed


@pytest.mark.parametrize(
    ("event", "role", "allowed"), [c for c in CASES if c[0] != "connect"]
)
def test_policy_answers_every_event_from_the_table(app, event, role, allowed):
    assert RtcPolicy(app).allows(Principal(str(uuid.uuid4()), role), event) == allowed


@pytest.mark.parametrize("role", ["therapist", "client"])
def test_a_real_socket_is_refused_exactly_the_events_the_table_forbids(
    app, make_user, token_for, role
):
    token = token_for(make_user(role))["Authorization"].split()[1]
    sock = signaling.socketio.test_client(app, namespace="/rtc", auth={"token": token})
    refused = {}
    for event in sorted(set(SPEC) - {"connect"}):
        ack = sock.emit(event, {}, namespace="/rtc", callback=True)
        refused[event] = ack.get("error", {}).get("message") == (
            f"your role may not send '{event}'"
        )
    expected = {e: not SPEC[e][ROLES.index(role)] for e in refused}
    assert refused == expected


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
