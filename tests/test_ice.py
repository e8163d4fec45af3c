"""ICE servers and coturn REST-style TURN credentials (docs/security.md, row 20)."""

import base64
import hashlib
import hmac

from teletherapy.services.ice import ice_servers

from .helpers import pair


def test_turn_credentials_are_time_limited_hmac():
    cfg = {
        "ICE_SERVERS": [{"urls": "stun:stun.example:3478"}],
        "TURN_URLS": ["turn:turn.example:3478"],
        "TURN_SECRET": "s3cret",
        "TURN_TTL_SECONDS": 600,
    }
    stun, turn = ice_servers(cfg, "user-1", now=1_000_000)
    assert stun == {"urls": "stun:stun.example:3478"}
    assert turn["username"] == "1000600:user-1"
    expected = base64.b64encode(
        hmac.new(b"s3cret", b"1000600:user-1", hashlib.sha1).digest()
    ).decode()
    assert turn["credential"] == expected


def test_no_turn_without_a_secret():
    assert (
        ice_servers(
            {"ICE_SERVERS": [], "TURN_URLS": ["turn:x"], "TURN_SECRET": ""}, "u"
        )
        == []
    )


def test_call_page_can_fetch_fresh_credentials(app, client, auth, make_user):
    app.config.update(
        TURN_URLS=["turn:turn.example:3478"], TURN_SECRET="k", TURN_TTL_SECONDS=60
    )
    _, patient = pair(app, make_user)
    auth.login(patient)
    body = client.get("/sessions/ice-servers").get_json()
    assert body["ttl_seconds"] == 60 and body["ice_servers"][0]["username"].endswith(
        ":" + patient.id
    )
    assert body["ice_transport_policy"] == "all"
