"""`teletherapy instruments list|import` and the demo's synthetic rated history."""

import stat
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from teletherapy import instruments_app as instruments
from teletherapy.extensions import db
from teletherapy.models import (
    AuditEvent,
    QualitySample,
    Rating,
    ResearchConsent,
    TherapySession,
    User,
)

from .helpers import pair
from .rating_helpers import FIXTURES, REPO, ended_session, rating_path

LICENSED_TOML = FIXTURES / "licensed-wai-sr.toml"
LICENSED_CSV = FIXTURES / "licensed-wai-sr.csv"


def _import(runner, template: str, items: Path, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(
        args=["instruments", "import", template, "--items", str(items), *extra]
    )


def test_list_shows_every_form_and_whether_pairs_are_usable(app, runner):
    r = runner.invoke(args=["instruments", "list"])
    assert r.exit_code == 0, r.output
    rows = {line.split()[0]: line.split() for line in r.output.splitlines() if line}
    assert rows["dta-c"][1:6] == ["1.0", "instrument", "client", "yes", "config"]
    assert rows["wai-sr"][2:5] == ["template", "client", "no"]
    assert "pair dta (default): usable: dta-c 1.0, dta-t 1.0, dta-meta 1.0" in r.output
    assert (
        "pair wai-sr: not usable: wai-sr 1.0 is a template without its item text"
        in r.output
    )


def test_import_completes_a_template_into_the_instance_directory(app, runner):
    r = _import(runner, "wai-sr", LICENSED_TOML)
    assert r.exit_code == 0, r.output
    written = Path(app.instance_path) / "instruments" / "wai-sr-1.0.toml"
    assert written.is_file()
    assert REPO not in written.resolve().parents  # never into the repository
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert 'text = "Template item text 1"' in written.read_text()
    assert str(written) in r.output
    assert "Template item text" not in r.output
    listing = runner.invoke(args=["instruments", "list"]).output
    row = next(line for line in listing.splitlines() if line.startswith("wai-sr "))
    assert row.split()[2:6] == ["instrument", "client", "yes", "instance"]
    # The therapist form is still a template: the pair is not usable yet.
    assert "pair wai-sr: not usable: wai-srt 1.0 is a template" in listing


def test_import_refuses_to_overwrite_without_replace(app, runner):
    assert _import(runner, "wai-sr", LICENSED_TOML).exit_code == 0
    again = _import(runner, "wai-sr", LICENSED_CSV)
    assert again.exit_code != 0 and "--replace" in again.output
    assert _import(runner, "wai-sr", LICENSED_CSV, "--replace").exit_code == 0


@pytest.mark.parametrize(
    ("template", "content", "message"),
    [
        ("nope", None, "no template 'nope'"),
        ("dta-c", None, "is not a template"),
        ("wai-sr", "id,text\nq1,Only one\n", "missing ['q2'"),
    ],
)
def test_bad_imports_fail_and_write_nothing(
    app, runner, tmp_path, template, content, message
):
    items = LICENSED_CSV
    if content is not None:
        items = tmp_path / "short.csv"
        items.write_text(content)
    r = _import(runner, template, items)
    assert r.exit_code != 0 and message in r.output
    assert "Only one" not in r.output  # licensed text is never echoed
    folder = Path(app.instance_path) / "instruments"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_an_imported_pair_becomes_usable_when_configured(
    app, runner, client, make_user, token_for
):
    therapist, patient = pair(app, make_user)
    app.config["DEFAULT_INSTRUMENT_PAIR"] = "wai-sr"
    first = ended_session(app, therapist, patient)
    headers = token_for(patient)
    r = client.get(rating_path(first), headers=headers)
    assert r.get_json()["error"]["code"] == "instrument_unavailable"
    assert _import(runner, "wai-sr", LICENSED_TOML).exit_code == 0
    assert _import(runner, "wai-srt", LICENSED_CSV).exit_code == 0
    form = client.get(rating_path(first), headers=headers).get_json()["instrument"]
    assert (form["id"], form["items"][0]["text"]) == ("wai-sr", "Template item text 1")
    answers = {f"q{n}": 3 for n in range(1, 13)}
    r = client.post(rating_path(first), json={"answers": answers}, headers=headers)
    assert r.status_code == 201, r.get_json()
    rating = r.get_json()["rating"]
    assert (rating["instrument_id"], rating["instrument_version"]) == ("wai-sr", "1.0")
    assert rating["scores"]["total"] == 36.0
    # The therapist's own pair setting overrides the default, except where the
    # other side already rated: both sides of a session answer matching forms.
    with app.app_context():
        db.session.get(User, therapist.id).instrument_pair = "dta"
        db.session.commit()
    t_form = client.get(rating_path(first), headers=token_for(therapist)).get_json()
    assert t_form["instrument"]["id"] == "wai-srt"
    second = ended_session(app, therapist, patient)
    t_form = client.get(rating_path(second), headers=token_for(therapist)).get_json()
    assert t_form["instrument"]["id"] == "dta-t"


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)))


def test_demo_seeds_a_rated_history_once(app, runner):
    r = runner.invoke(args=["demo", "--dyads", "4", "--sessions", "5"])
    assert r.exit_code == 0, r.output
    assert "Synthetic history: 4 dyads, 20 ended sessions, 40 ratings" in r.output
    with app.app_context():
        sessions = db.session.scalars(select(TherapySession)).all()
        assert len(sessions) == 20
        assert {s.status for s in sessions} == {"ended"}
        assert len({s.modality for s in sessions}) >= 3
        dyads = {(s.therapist_id, s.client_id) for s in sessions}
        assert len(dyads) == 4
        assert len({t for t, _ in dyads}) == 2  # therapists see several clients
        host = db.session.scalar(
            select(User).where(User.email == "therapist@demo.example")
        )
        assert host.id in {t for t, _ in dyads}  # the demo log-in has a history
        ratings = db.session.scalars(select(Rating)).all()
        assert len(ratings) == 40
        per_session = {}
        for row in ratings:
            per_session.setdefault(row.session_id, set()).add(row.perspective)
            assert row.submitted_at > next(
                s.ended_at for s in sessions if s.id == row.session_id
            )
        assert set(map(frozenset, per_session.values())) == {
            frozenset({"client", "therapist"})
        }
        people = {p for d in dyads for p in d}
        consents = db.session.scalars(select(ResearchConsent)).all()
        assert {c.user_id for c in consents} == people
        assert {c.version for c in consents} == {app.config["CONSENT_VERSION"]}
        online = {s.id for s in sessions if s.modality in ("video", "audio")}
        sampled = set(db.session.scalars(select(QualitySample.session_id)))
        assert sampled and sampled <= online
        for row in ratings:
            in_person = next(
                s.modality == "in_person" for s in sessions if s.id == row.session_id
            )
            assert (row.subscales["digital"] is None) == in_person
        names = {u.display_name for u in db.session.scalars(select(User))}
    assert not any("@" in n for n in names)
    before = [_count(app, m) for m in (TherapySession, Rating, ResearchConsent, User)]
    again = runner.invoke(args=["demo", "--dyads", "4", "--sessions", "5"])
    assert again.exit_code == 0 and "Synthetic history" not in again.output
    after = [_count(app, m) for m in (TherapySession, Rating, ResearchConsent, User)]
    assert after == before


def test_demo_history_has_realistic_figures(app, runner):
    assert (
        runner.invoke(args=["demo", "--dyads", "16", "--sessions", "8"]).exit_code == 0
    )
    with app.app_context():
        rows = db.session.scalars(select(Rating)).all()
        sessions = {s.id: s for s in db.session.scalars(select(TherapySession))}
    by_session: dict[str, dict[str, float]] = {}
    for row in rows:
        by_session.setdefault(row.session_id, {})[row.perspective] = row.total
    c = np.array([v["client"] for v in by_session.values()])
    t = np.array([v["therapist"] for v in by_session.values()])
    d = (c.mean() - t.mean()) / np.sqrt((c.var(ddof=1) + t.var(ddof=1)) / 2)
    r = np.corrcoef(c, t)[0, 1]
    assert 0.3 < d < 1.0  # clients rate higher (d ≈ .6)
    assert 0.15 < r < 0.6  # moderately related (r ≈ .36)
    assert c.mean() / 9 > 4.0  # near the top of a 1-5 scale
    # Ruptures: a drop of at least 1 SD (of the client totals) from one session to
    # the next, in about half of the dyads.
    courses: dict[tuple[str, str], list[tuple]] = {}
    for sid, v in by_session.items():
        s = sessions[sid]
        courses.setdefault((s.therapist_id, s.client_id), []).append(
            (s.ended_at, v["client"])
        )
    ruptured = 0
    for course in courses.values():
        totals = np.array([total for _, total in sorted(course)])
        ruptured += bool((totals[:-1] - totals[1:] >= c.std(ddof=1)).any())
    assert 0.3 <= ruptured / len(courses) <= 0.8


def test_demo_with_no_dyads_adds_no_history(app, runner):
    r = runner.invoke(args=["demo", "--dyads", "0"])
    assert r.exit_code == 0
    assert _count(app, TherapySession) == 0 and _count(app, Rating) == 0
    with app.app_context():
        assert (
            db.session.scalar(
                select(AuditEvent).where(AuditEvent.action == "demo.history")
            )
            is None
        )


def test_registry_is_loaded_once_per_app(app):
    with app.app_context():
        first = instruments.registry()
        assert instruments.registry() is first
        instruments.reset()
        assert instruments.registry() is not first
