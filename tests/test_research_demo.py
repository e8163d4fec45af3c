"""The demo's figures are the ones services/demo_history.py's docstring states.

`teletherapy demo` (6 dyads x 8 sessions, the default) is seeded and read back the way
researchers read it: research rows and the summary (with the multilevel models, as the
API gives it). Each figure is checked against the docstring's value within the
tolerance stated beside it; the ruptures found must be the injected ones.
"""

import numpy as np
import pytest
from sqlalchemy import select

from teletherapy.extensions import db
from teletherapy.models import User
from teletherapy.research import analysis
from teletherapy.research.rows import Filters, pair_rows
from teletherapy.research.settings import ResearchSettings
from teletherapy.services import demo_history
from teletherapy.services.pseudonyms import pseudonym


@pytest.fixture
def demo(app, runner):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["demo"])
    assert "6 dyads, 48 ended sessions, 96 ratings" in result.output, result.output
    settings = ResearchSettings.from_app(app)
    with app.app_context():
        rows = pair_rows(db.session, Filters(), settings)
    return rows, analysis.analyse(rows, Filters(), settings, full=True)


def test_demo_figures_are_the_documented_ones(demo):
    rows, s = demo
    assert (s["n_pairs"], s["n_dyads"]) == (48, 6)
    assert len({r.therapist_pid for r in rows}) == 5  # the therapist level shows
    assert {r.instrument for r in rows} == {"dta"}
    # Tryon et al. 2007: r = .36, d = .63; this demo: r = .39, d_av = .73
    assert s["pearson_r"] == pytest.approx(0.39, abs=0.01)
    assert s["cohens_d"] == pytest.approx(0.73, abs=0.01)
    # the ceiling: client mean 38.6 of 45, 42% of client ratings at 40 or more
    client = np.array([r.client.total for r in rows])
    assert client.mean() == pytest.approx(38.6, abs=0.05)
    assert (client >= 40).mean() == pytest.approx(0.42, abs=0.01)
    # the headline: +3.27 points, 95% CI [-0.64, 7.18], therapists as clusters, 4 df
    h = s["headline"]
    assert h["estimate"] == pytest.approx(3.27, abs=0.01)
    assert h["ci95"] == pytest.approx([-0.64, 7.18], abs=0.01)
    assert (h["n_dyads"], h["n_therapists"], h["df"]) == (6, 5, 4)
    # meta-perception: predictions in 40 of 48 sessions, bias -0.95, accuracy r .63
    m = s["meta_perception"]
    assert (m["n"], m["n_dyads"]) == (40, 6)
    assert m["bias"] == pytest.approx(-0.95, abs=0.01)
    assert m["accuracy_r"] == pytest.approx(0.63, abs=0.01)


def test_demo_ruptures_are_the_injected_ones_and_are_repaired(app, demo):
    _, s = demo
    r = s["ruptures"]
    # McLaughlin et al. 2014: 46% of treatments; the demo injects 3 of 6 (50%)
    assert r["share_of_dyads"] == pytest.approx(0.5)
    assert r["n_events"] == r["n_repaired"] == 6
    master = np.random.default_rng(demo_history.SEED)
    injected = {int(k) for k in master.permutation(6)[:3]}
    with app.app_context():
        pids = set()
        for k in injected:
            therapist = _demo_user(app, "therapist", k % 5)
            client = _demo_user(app, "client", k)
            pids.add(
                pseudonym(
                    "dyad", therapist.id, client.id, key=app.config["PSEUDONYM_KEY"]
                )
            )
    assert {e["dyad_id"] for e in r["events"]} == pids


def _demo_user(app, role: str, index: int) -> User:  # type: ignore[no-untyped-def]
    email = (
        demo_history.HOSTS[role == "client"]
        if index == 0
        else f"demo-{role}-{index:02d}@demo.example"
    )
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


def test_demo_has_at_least_five_therapists_from_six_dyads():
    assert [demo_history.therapist_count(n) for n in (1, 4, 5, 6, 10, 16)] == [
        1,
        2,
        3,
        5,
        5,
        8,
    ]
