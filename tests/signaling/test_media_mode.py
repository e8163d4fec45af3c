"""media_mode: a switch of the call to audio only (or back), stored with the
connection's numbers through the policy, then relayed to the others without them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import has_app_context, has_request_context
from rtc_helpers import FakeClock, FakePolicy, Peer, expect_error, make_policy

from signaling import Denied, Principal
from signaling.ratelimit import LIMITS, Limit

NUMBERS = {"rtt_ms": 180.5, "jitter_ms": 12, "packet_loss_pct": 7.5, "bitrate_kbps": 95}
SWITCH = {"session_id": "s1", "audio_only": True, "reason": "low_bandwidth", **NUMBERS}


@dataclass
class SwitchPolicy(FakePolicy):
    """The fake policy plus ``record_media_mode``, which checks the account with
    its write as the app does, and notes the Flask contexts it ran in."""

    switches: list[tuple[str, str, bool, str, dict[str, Any]]] = field(
        default_factory=list
    )
    contexts: list[tuple[bool, bool]] = field(default_factory=list)

    def record_media_mode(
        self,
        principal: Principal,
        session_id: str,
        audio_only: bool,
        reason: str,
        sample: Mapping[str, float | int],
    ) -> Denied | None:
        self._enter("record_media_mode", sample)
        self.contexts.append((has_app_context(), has_request_context()))
        if principal.user_id in self.inactive:
            return Denied("unauthenticated", "sign in again")
        row = (principal.user_id, session_id, audio_only, reason, dict(sample))
        self.switches.append(row)
        return None


@pytest.fixture
def policy() -> SwitchPolicy:
    return SwitchPolicy(**vars(make_policy()))


@pytest.fixture
def pair(connect: Any) -> tuple[Peer, Peer]:
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    client.received()
    therapist.received()
    return client, therapist


def test_a_switch_is_stored_with_its_numbers_and_relayed_to_the_other_only(
    pair: tuple[Peer, Peer], policy: SwitchPolicy
) -> None:
    client, therapist = pair
    assert client.call("media_mode", SWITCH) == {"ok": True}
    assert policy.switches == [("c1", "s1", True, "low_bandwidth", NUMBERS)]
    relayed = {"from": "c1", "audio_only": True, "reason": "low_bandwidth"}
    assert therapist.received() == [("media_mode", relayed)]
    assert client.received() == []


def test_switching_back_by_choice_is_relayed_the_same_way(
    pair: tuple[Peer, Peer], policy: SwitchPolicy
) -> None:
    client, therapist = pair
    back = {**SWITCH, "audio_only": False, "reason": "user"}
    assert therapist.call("media_mode", back) == {"ok": True}
    assert policy.switches == [("t1", "s1", False, "user", NUMBERS)]
    relayed = {"from": "t1", "audio_only": False, "reason": "user"}
    assert client.received() == [("media_mode", relayed)]


def test_other_sessions_hear_nothing(pair: tuple[Peer, Peer], connect: Any) -> None:
    client, _therapist = pair
    elsewhere = connect("t2")
    elsewhere.join("s2")
    elsewhere.received()
    assert client.call("media_mode", SWITCH)["ok"]
    assert elsewhere.received() == []


def test_it_runs_in_an_app_context_without_a_request_context(
    pair: tuple[Peer, Peer], policy: SwitchPolicy
) -> None:
    client, _therapist = pair
    assert client.call("media_mode", SWITCH)["ok"]
    assert policy.contexts == [(True, False)]  # as quality: no per-event request


BAD_NUMBERS = [math.nan, math.inf, -1, -0.001, True, "1", None, [1]]
INVALID = [
    *[(name, value) for name in NUMBERS for value in BAD_NUMBERS],
    ("packet_loss_pct", 100.0001),
    *[("audio_only", value) for value in (1, 0, "true", None, [])],
    *[("reason", value) for value in ("bandwidth", "USER", "", None, 1)],
]


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_invalid_fields_are_named_and_nothing_is_stored_or_sent(
    pair: tuple[Peer, Peer], policy: SwitchPolicy, name: str, value: Any
) -> None:
    client, therapist = pair
    error = expect_error(client.call("media_mode", {**SWITCH, name: value}), "invalid")
    assert error["message"].startswith(f"{name}: ")
    assert policy.switches == [] and therapist.received() == []


@pytest.mark.parametrize("missing", ["audio_only", "reason", *NUMBERS])
def test_every_field_is_required(pair: tuple[Peer, Peer], missing: str) -> None:
    client, _ = pair
    payload = {k: v for k, v in SWITCH.items() if k != missing}
    error = expect_error(client.call("media_mode", payload), "invalid")
    assert error["message"] == f"{missing}: field required (got nothing)"


@pytest.mark.parametrize("extra", ["frames_dropped", "from", "name"])
def test_unknown_fields_are_refused(pair: tuple[Peer, Peer], extra: str) -> None:
    client, _ = pair
    error = expect_error(client.call("media_mode", {**SWITCH, extra: 1}), "invalid")
    assert error["message"] == f"{extra}: unexpected field"


def test_loss_of_100_percent_and_zeros_are_valid(pair: tuple[Peer, Peer]) -> None:
    client, _ = pair
    zeros = dict.fromkeys(NUMBERS, 0)
    assert client.call("media_mode", {**SWITCH, **zeros})["ok"] is True
    assert client.call("media_mode", {**SWITCH, "packet_loss_pct": 100})["ok"] is True


def test_a_session_not_joined_is_refused(
    connect: Any, pair: tuple[Peer, Peer], policy: SwitchPolicy
) -> None:
    client, therapist = pair
    outsider = connect("c2")  # connected, never joined s1
    expect_error(outsider.call("media_mode", SWITCH), "not_joined")
    other = {**SWITCH, "session_id": "s2"}  # joined s1, not s2
    expect_error(client.call("media_mode", other), "not_joined")
    assert client.call("leave", {"session_id": "s1"})["ok"]
    expect_error(client.call("media_mode", SWITCH), "not_joined")
    assert policy.switches == []
    assert therapist.events("media_mode") == []


def test_the_limit_is_one_a_second_with_bursts_of_five(
    pair: tuple[Peer, Peer], clock: FakeClock
) -> None:
    assert LIMITS["media_mode"] == Limit(rate=1, burst=5)
    client, therapist = pair
    assert all(client.call("media_mode", SWITCH)["ok"] for _ in range(5))
    therapist.received()
    expect_error(client.call("media_mode", SWITCH), "rate_limited")
    assert therapist.received() == []
    clock.advance(1)
    assert client.call("media_mode", SWITCH)["ok"] is True
    expect_error(client.call("media_mode", SWITCH), "rate_limited")
    assert therapist.call("media_mode", SWITCH)["ok"] is True  # its own bucket


def test_a_deactivated_account_is_refused_and_cut_off_like_quality(
    pair: tuple[Peer, Peer], policy: SwitchPolicy
) -> None:
    client, therapist = pair
    policy.inactive.add("t1")
    expect_error(therapist.call("media_mode", SWITCH), "unauthenticated")
    assert not therapist.connected
    assert policy.switches == []
    left = {"user_id": "t1", "role": "therapist"}
    assert client.received() == [("peer_left", left)]  # and no media_mode


def test_a_failed_write_answers_internal_and_relays_nothing(
    pair: tuple[Peer, Peer], policy: SwitchPolicy
) -> None:
    client, therapist = pair
    policy.fail.add("record_media_mode")
    error = expect_error(client.call("media_mode", SWITCH), "internal")
    assert policy.marker not in error["message"]
    assert therapist.received() == []


def test_the_role_table_is_asked(pair: tuple[Peer, Peer], policy: SwitchPolicy) -> None:
    client, _ = pair
    policy.denied_events.add(("client", "media_mode"))
    expect_error(client.call("media_mode", SWITCH), "forbidden")
    assert policy.switches == []
