"""Small cells inside an accepted summary: a group block (by_modality, by_instrument) of
fewer than RESEARCH_MIN_CELL dyads is replaced by a marker, on the API and the page."""

from datetime import timedelta

import pytest

from teletherapy.research.cells import suppress_small_groups

from .conftest import AuthActions
from .research_export_helpers import dyads
from .research_helpers import T0, consent, mixed_instrument_dyads, rated_session

SUMMARY = "/api/v1/research/summary"
SENTENCE = "fewer than 5 dyads: not shown, so that no one can be recognised"
MARKER = {"suppressed": "small_cell", "n_dyads_below": 5}


@pytest.fixture
def researcher(make_user):  # type: ignore[no-untyped-def]
    return make_user("researcher")


def _video_and_two_audio_dyads(app, make_user) -> None:  # type: ignore[no-untyped-def]
    """5 video dyads (3 sessions each) and 2 audio-only dyads whose totals stand out
    (client 27.5, therapist 21.5: means 27.50 and 21.50 if they were shown)."""
    dyads(app, make_user, 5, sessions=3)
    for _ in range(2):
        therapist, patient = make_user("therapist"), make_user("client")
        consent(app, therapist, patient)
        for week in range(3):
            rated_session(
                app,
                therapist,
                patient,
                client_total=27.5,
                therapist_total=21.5,
                modality="audio",
                at=T0 + timedelta(weeks=week),
            )


def test_a_modality_of_fewer_dyads_is_suppressed_in_the_api_summary(
    app, client, make_user, token_for, researcher
):
    _video_and_two_audio_dyads(app, make_user)
    r = client.get(SUMMARY, headers=token_for(researcher))
    assert r.status_code == 200
    summary = r.get_json()
    assert summary["n_dyads"] == 7
    assert summary["by_modality"]["audio"] == MARKER  # no count, no mean
    video = summary["by_modality"]["video"]
    assert video["n_dyads"] == 5 and video["client_mean"] is not None


def test_the_page_says_why_a_modality_is_not_shown(
    app, client, auth, make_user, researcher
):
    _video_and_two_audio_dyads(app, make_user)
    auth.login(researcher)
    r = client.get("/research/")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f"Audio only — {SENTENCE}" in page
    assert 'data-testid="research-suppressed-plot"' in page
    assert '<th scope="row">Video</th>' in page
    assert '<th scope="row">Audio only</th>' not in page
    assert "27.50" not in page and "21.50" not in page


def test_an_instrument_of_fewer_dyads_is_suppressed(
    app, client, auth, make_user, token_for, researcher
):
    mixed_instrument_dyads(app, make_user, 7)  # 4 on DTA, 3 on WAI-SR
    summary = client.get(SUMMARY, headers=token_for(researcher)).get_json()
    assert summary["n_dyads"] == 7
    assert summary["by_instrument"] == {"dta": MARKER, "wai-sr": MARKER}
    auth.login(researcher)
    page = client.get("/research/").get_data(as_text=True)
    assert page.count(f"F{SENTENCE[1:]}") == 2
    assert "session pairs from 4 dyads" not in page


def test_with_a_minimum_of_one_nothing_is_suppressed(make_app, make_user, token_for):
    app = make_app(RESEARCH_MIN_CELL=1)
    _video_and_two_audio_dyads(app, make_user)
    client = app.test_client()
    researcher = make_user("researcher")
    summary = client.get(SUMMARY, headers=token_for(researcher)).get_json()
    audio = summary["by_modality"]["audio"]
    assert audio["n_dyads"] == 2 and audio["client_mean"] == 27.5
    assert "suppressed" not in str(summary)
    AuthActions(client).login(researcher)
    page = client.get("/research/").get_data(as_text=True)
    assert '<th scope="row">Audio only</th>' in page and "27.50" in page
    assert "not shown, so that no one can be recognised" not in page


def test_blocks_inside_an_instruments_block_are_suppressed_too():
    summary = {
        "by_modality": {},
        "by_instrument": {
            "dta": {
                "n_dyads": 6,
                "by_modality": {"video": {"n_dyads": 5}, "chat": {"n_dyads": 1}},
            },
            "wai-sr": {"n_dyads": 4, "by_modality": {"video": {"n_dyads": 4}}},
        },
    }
    assert suppress_small_groups(summary, 5) == {
        "by_modality": {},
        "by_instrument": {
            "dta": {
                "n_dyads": 6,
                "by_modality": {"video": {"n_dyads": 5}, "chat": MARKER},
            },
            "wai-sr": MARKER,
        },
    }


def test_a_small_reference_modality_hides_the_models_intercept_and_contrasts(
    app, client, make_user, token_for, researcher
):
    """Audio (2 dyads) is the model's reference level: the intercept is its estimate
    and modality[video] a contrast with it, so neither is shown."""
    _video_and_two_audio_dyads(app, make_user)
    summary = client.get(SUMMARY, headers=token_for(researcher)).get_json()
    effects = summary["multilevel"]["dyad_model"]["fixed_effects"]
    assert effects["Intercept"] == MARKER
    assert effects["modality[video]"] == MARKER


def test_a_small_modality_term_goes_and_a_large_reference_stays() -> None:
    term = {"coef": 1.0, "se": 0.5, "ci95": [0.0, 2.0], "p": 0.05, "z": 2.0}
    summary = {
        "by_modality": {"audio": {"n_dyads": 6}, "video": {"n_dyads": 2}},
        "multilevel": {
            "dyad_model": {
                "fixed_effects": {
                    "Intercept": dict(term),
                    "modality[video]": dict(term),
                }
            },
            "therapist_model": None,
        },
    }
    suppress_small_groups(summary, 5)
    effects = summary["multilevel"]["dyad_model"]["fixed_effects"]
    assert effects == {"Intercept": term, "modality[video]": MARKER}
    assert summary["by_modality"]["video"] == MARKER
