"""Blinding: neither party sees the other's answers or scores, on any page or API call.

A canary pair of instruments gives each side a scale of its own (client 731901..731904,
therapist 842601..842604), so every answer and score is a number that appears nowhere
else; the test greps every response a participant can reach for the other side's.
"""

import re
from pathlib import Path

import pytest

from teletherapy import instruments_app as instruments

from .helpers import pair
from .rating_helpers import ended_session, rating_path

CANARY = """
id = "canary-{side}"
version = "1.0"
title = "Canary {side}"
perspective = "{perspective}"
kind = "instrument"
pair = "canary-{other}"
licence = "test fixture"
validated = false
scoring = "sum"

[scale]
min = {low}
max = {high}
anchors = {{ "{low}" = "Low", "{high}" = "High" }}

[[subscales]]
id = "a"
label = "Part A"

[[subscales]]
id = "b"
label = "Part B"

[[items]]
id = "a1"
subscale = "a"
text = "Canary statement one"

[[items]]
id = "a2"
subscale = "a"
text = "Canary statement two"

[[items]]
id = "b1"
subscale = "b"
text = "Canary statement three"

[[items]]
id = "b2"
subscale = "b"
text = "Canary statement four"
"""

CLIENT_ANSWERS = {"a1": 731903, "a2": 731902, "b1": 731904, "b2": 731904}
THERAPIST_ANSWERS = {"a1": 842602, "a2": 842601, "b1": 842603, "b2": 842604}


def _scores(answers: dict[str, int]) -> list[int]:
    a, b = answers["a1"] + answers["a2"], answers["b1"] + answers["b2"]
    return [a, b, a + b]


CLIENT_SCORES = _scores(CLIENT_ANSWERS)  # 1463805, 1463808, 2927613
THERAPIST_SCORES = _scores(THERAPIST_ANSWERS)  # 1685203, 1685207, 3370410
CLIENT_ANSWER = re.compile(r"\b7319\d\d\b")
THERAPIST_ANSWER = re.compile(r"\b8426\d\d\b")


def _number(value: int) -> re.Pattern[str]:
    return re.compile(rf"\b{value}\b")


@pytest.fixture
def canary_app(app, tmp_path: Path):  # type: ignore[no-untyped-def]
    directory = tmp_path / "canary-instruments"
    directory.mkdir()
    sides = [
        ("c", "client", "t", 731901, 731904),
        ("t", "therapist", "c", 842601, 842604),
    ]
    for side, perspective, other, low, high in sides:
        (directory / f"canary-{side}.toml").write_text(
            CANARY.format(
                side=side, perspective=perspective, other=other, low=low, high=high
            )
        )
    app.config["INSTRUMENTS_DIR"] = str(directory)
    app.config["DEFAULT_INSTRUMENT_PAIR"] = "canary-c"
    instruments.reset(app)
    return app


def _reachable(client, auth, token_for, user, sid: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every page and API answer this participant can reach about the session."""
    auth.login(user)
    headers = token_for(user)
    role = user.role
    responses = {}
    for path in (
        "/",
        f"/{role}",
        f"/sessions/{sid}",
        f"/sessions/{sid}/rating",
    ):
        r = client.get(path, follow_redirects=True)
        assert r.status_code == 200, (path, r.status_code)
        responses[path] = r.get_data(as_text=True)
    repost = client.post(f"/sessions/{sid}/rating", data={"answers-a1": "1"})
    responses["POST page"] = repost.get_data(as_text=True)
    for path in (
        "/api/v1/me",
        "/api/v1/sessions",
        f"/api/v1/sessions/{sid}",
        f"/api/v1/sessions/{sid}/messages",
        rating_path(sid),
        "/api/v1/ratings/pending",
    ):
        r = client.get(path, headers=headers)
        assert r.status_code == 200, (path, r.status_code)
        responses[path] = r.get_data(as_text=True)
    for body in ({"answers": {}}, {"answers": {"a1": 1}}, {"answers": {"zz": 1}}):
        r = client.post(rating_path(sid), json=body, headers=headers)
        responses[f"POST api {body}"] = r.get_data(as_text=True)
    auth.logout()
    return responses


def _leaks(responses: dict[str, str], patterns: list[re.Pattern[str]]) -> list:  # type: ignore[type-arg]
    return [
        (where, p.pattern)
        for where, text in responses.items()
        for p in patterns
        if p.search(text)
    ]


def _submit(client, token_for, user, sid: str, answers) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        rating_path(sid), json={"answers": answers}, headers=token_for(user)
    )
    assert r.status_code == 201, r.get_json()


@pytest.mark.parametrize("policy", ["blind", "reveal_after_both"])
@pytest.mark.parametrize("first", ["client", "therapist"])
def test_nobody_sees_the_others_answers_anywhere(
    canary_app, client, auth, make_user, token_for, policy, first
):
    canary_app.config["RATING_REVEAL_POLICY"] = policy
    therapist, patient = pair(canary_app, make_user)
    sid = ended_session(canary_app, therapist, patient)
    client_secrets = [CLIENT_ANSWER, *map(_number, CLIENT_SCORES)]
    therapist_secrets = [THERAPIST_ANSWER, *map(_number, THERAPIST_SCORES)]
    order = [
        (patient, CLIENT_ANSWERS),
        (therapist, THERAPIST_ANSWERS),
    ]
    if first == "therapist":
        order.reverse()
    (one, one_answers), (other, other_answers) = order
    _submit(client, token_for, one, sid, one_answers)
    # Only one side has rated: nothing of the rater's reaches the other side.
    seen_by_other = _reachable(client, auth, token_for, other, sid)
    secrets = client_secrets if one is patient else therapist_secrets
    assert _leaks(seen_by_other, secrets) == []
    # The rater's own answers are served back to the rater (so the grep can fail).
    own = _reachable(client, auth, token_for, one, sid)
    assert _leaks(own, secrets[:1]) != []

    _submit(client, token_for, other, sid, other_answers)
    seen_by_client = _reachable(client, auth, token_for, patient, sid)
    seen_by_therapist = _reachable(client, auth, token_for, therapist, sid)
    assert _leaks(seen_by_client, therapist_secrets) == []
    # Item answers never reach the therapist, whatever the policy.
    assert _leaks(seen_by_therapist, [CLIENT_ANSWER]) == []
    client_scores = list(map(_number, CLIENT_SCORES))
    if policy == "blind":
        assert _leaks(seen_by_therapist, client_scores) == []
    else:
        # Revealed only on the therapist's own rating page (also after a repeated
        # post) and API answer.
        shown = {where for where, _ in _leaks(seen_by_therapist, client_scores)}
        own_rating = {f"/sessions/{sid}/rating", rating_path(sid)}
        assert own_rating <= shown <= own_rating | {f"/sessions/{sid}", "POST page"}


def test_reveal_after_both_shows_the_therapist_the_clients_scores_only_after_both(
    canary_app, client, token_for, make_user
):
    canary_app.config["RATING_REVEAL_POLICY"] = "reveal_after_both"
    therapist, patient = pair(canary_app, make_user)
    sid = ended_session(canary_app, therapist, patient)
    t_headers, c_headers = token_for(therapist), token_for(patient)

    def revealed(headers):  # type: ignore[no-untyped-def]
        return client.get(rating_path(sid), headers=headers).get_json()[
            "revealed_scores"
        ]

    _submit(client, token_for, patient, sid, CLIENT_ANSWERS)
    assert revealed(t_headers) is None  # the therapist has not rated yet
    assert revealed(c_headers) is None
    _submit(client, token_for, therapist, sid, THERAPIST_ANSWERS)
    assert revealed(t_headers) == {
        "perspective": "client",
        "total": float(CLIENT_SCORES[2]),
        "subscales": {"a": float(CLIENT_SCORES[0]), "b": float(CLIENT_SCORES[1])},
    }
    assert revealed(c_headers) is None  # never the therapist's to the client


def test_blind_policy_reveals_nothing_after_both(
    canary_app, client, token_for, make_user
):
    therapist, patient = pair(canary_app, make_user)
    sid = ended_session(canary_app, therapist, patient)
    _submit(client, token_for, patient, sid, CLIENT_ANSWERS)
    _submit(client, token_for, therapist, sid, THERAPIST_ANSWERS)
    for user in (therapist, patient):
        body = client.get(rating_path(sid), headers=token_for(user)).get_json()
        assert body["revealed_scores"] is None
        assert body["rating"]["perspective"] == user.role


def test_an_unknown_policy_is_treated_as_blind(
    canary_app, client, token_for, make_user
):
    canary_app.config["RATING_REVEAL_POLICY"] = "reveal_everything"
    therapist, patient = pair(canary_app, make_user)
    sid = ended_session(canary_app, therapist, patient)
    _submit(client, token_for, patient, sid, CLIENT_ANSWERS)
    _submit(client, token_for, therapist, sid, THERAPIST_ANSWERS)
    body = client.get(rating_path(sid), headers=token_for(therapist)).get_json()
    assert body["revealed_scores"] is None
    assert body["visibility"].startswith("Your client will never see")
