"""The researcher's pages: the answer first, plots with guides and downloads, exports."""

import html as entities
import re
from datetime import timedelta

import pytest

from .research_helpers import (
    T0,
    audit_actions,
    consent,
    history,
    mixed_instrument_dyads,
    rated_session,
)

PLOT_KINDS = ("scatter", "bland_altman", "trajectories", "modality")


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """These tests' data hold fewer dyads than RESEARCH_MIN_CELL (default 5); they test
    other things, and the small-cell rule has its own (tests/test_research_cells.py)."""
    return make_app(RESEARCH_MIN_CELL=1)


@pytest.fixture
def researcher(client, auth, make_user):  # type: ignore[no-untyped-def]
    user = make_user("researcher", name="Quinn Analyst")
    auth.login(user)
    return user


@pytest.fixture
def data(app, make_user):  # type: ignore[no-untyped-def]
    t1, t2 = make_user("therapist"), make_user("therapist")
    c1, c2 = make_user("client"), make_user("client")
    consent(app, t1, t2, c1, c2)
    history(app, t1, c1, 4)
    history(app, t2, c2, 3, modality="audio")


def _page(client, path: str = "/research/", status: int = 200) -> str:  # type: ignore[no-untyped-def]
    r = client.get(path)
    assert r.status_code == status, r.status_code
    return entities.unescape(r.get_data(as_text=True))


def test_dashboard_leads_with_direction_size_ci_and_n(client, researcher, data):
    page = _page(client)
    answer = page.index('data-testid="research-answer"')
    assert answer < page.index('data-testid="research-plots"')
    # two dyads: no nested estimate, the reason instead, and no inferential claim
    headline = page[answer : page.index('data-testid="research-descriptive"')]
    assert "No estimate that respects the nesting of sessions in dyads" in headline
    assert "5 dyads" in headline
    assert "confidence interval does not include zero" not in page
    assert "n = 7 session pairs from 2 dyads" in page
    assert "Across these sessions, clients rated the alliance higher" in page
    assert "treats sessions as independent" in page
    assert "95% CI" in page and "ICC(A,1)" in page and "Bland–Altman" in page
    assert "By modality" in page and "Audio only" in page
    sources = re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', page)
    assert page.count("<script") == len(sources)  # CSP: no inline scripts
    # none of its own: every signed-in page loads the idle sign-out warning
    assert sources == ["/static/js/idle.js"]
    assert "css/research.css" in page


@pytest.fixture
def nested(app, make_user):  # type: ignore[no-untyped-def]
    """Six dyads of three therapists, client 3 points higher, predictions 1 above."""
    therapists = [make_user("therapist") for _ in range(3)]
    for k in range(6):
        therapist, patient = therapists[k % 3], make_user("client")
        consent(app, patient, *(therapists if k == 0 else ()))
        for week in range(5):
            level = 36.0 + (k * 5 + week * 3) % 7
            dip = 8.0 if k % 2 and week == 3 else 0.0  # a rupture, back a week later
            rated_session(
                app,
                therapist,
                patient,
                at=T0 + timedelta(weeks=week),
                client_total=level + 3.0 - dip + (week % 2) * 0.5,
                therapist_total=level - dip / 2,
                meta_answers={"m-goal": 4, "m-task": 4, "m-bond": 5},
            )


def test_dashboard_headline_respects_the_nesting(client, researcher, nested):
    page = _page(client)
    answer = page[
        page.index('data-testid="research-headline"') : page.index(
            'data-testid="research-descriptive"'
        )
    ]
    assert "Clients rated the alliance higher than therapists, by 2.80 points" in answer
    assert "(95% CI " in answer and "; p " in answer
    assert "Method: random-intercept model" in answer
    assert "From 6 dyads (30 sessions" in answer
    assert "confidence interval does not include zero" not in page
    ruptures = page[page.index('data-testid="research-ruptures"') :]
    assert "of dyads</strong> had at least one rupture" in ruptures
    assert "Rule: a rupture is" in ruptures and "repair window" in ruptures
    meta = page[page.index('data-testid="research-meta"') :]
    assert "Bias (prediction − actual)" in meta and "Accuracy r" in meta
    assert "in 30 sessions of 6 dyads" in meta
    assert 'data-testid="ba-method"' in page and "Carkeet" in page
    assert 'data-testid="ba-method-plot"' in page


def test_dashboard_splits_mixed_instruments(app, client, researcher, make_user):
    mixed_instrument_dyads(app, make_user, 4)
    page = _page(client)
    assert "These data mix instruments" in page
    section = page[page.index('data-testid="research-by-instrument"') :]
    assert "<h3>dta</h3>" in section and "<h3>wai-sr</h3>" in section
    assert 'data-testid="research-descriptive"' not in page  # nothing pooled
    one = _page(client, "/research/?instrument=dta")
    assert 'data-testid="research-descriptive"' in one


def test_every_plot_has_an_image_a_reading_guide_and_downloads(
    client, researcher, data
):
    page = _page(client, "/research/?modality=audio")
    for kind in PLOT_KINDS:
        src = f"/research/plots/{kind}.svg?modality=audio"
        assert f'<img src="{src}"' in page
        assert f'href="{src}" download="{kind}.svg"' in page
        assert (
            f'href="/research/plots/{kind}.png?modality=audio" download="{kind}.png"'
            in page
        )
    assert page.count("<figcaption>") == 4
    assert 'href="/research/export.csv?shape=wide&modality=audio"' in page


@pytest.mark.parametrize("kind", PLOT_KINDS)
def test_plots_are_svg_and_png(client, researcher, data, kind):
    svg = client.get(f"/research/plots/{kind}.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert "<svg" in svg.get_data(as_text=True)
    assert "n = 7 pairs" in svg.get_data(as_text=True) or kind == "trajectories"
    png = client.get(f"/research/plots/{kind}.png?modality=audio")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG")


def test_unknown_plot_is_404_before_bad_filters_are_422(client, researcher):
    assert client.get("/research/plots/pie.svg").status_code == 404
    assert client.get("/research/plots/scatter.gif").status_code == 404
    assert client.get("/research/plots/pie.svg?modality=zoom").status_code == 404
    assert client.get("/research/plots/scatter.svg?modality=zoom").status_code == 422


def test_empty_data_says_so_and_shows_no_plots(client, researcher):
    page = _page(client)
    assert (
        'data-testid="research-empty"' in page and "No data for these filters" in page
    )
    assert "<img" not in page


def test_tiny_data_says_statistics_need_more_pairs(app, client, researcher, make_user):
    therapist, patient = make_user("therapist"), make_user("client")
    consent(app, therapist, patient)
    rated_session(app, therapist, patient)
    page = _page(client)
    assert 'data-testid="research-tiny"' in page and "need at least 3" in page
    assert "Not computed:" in page and page.count("<img") == 4


def test_bad_filters_are_shown_per_field_with_422(client, researcher, data):
    page = _page(client, "/research/?modality=zoom&from=2026-02-31", status=422)
    assert "must be one of video, audio, chat, in_person (got 'zoom')" in page
    assert 'id="f-from" name="from"' in page and 'aria-invalid="true"' in page
    assert "<img" not in page


def test_filter_form_offers_pseudonyms_only(app, client, researcher, data):
    page = _page(client)
    options = re.findall(r'<option value="(T-[0-9a-f]{16})"', page)
    assert len(options) == 2
    therapist = options[0]
    page = _page(client, f"/research/?therapist={therapist}")
    assert (
        "n = 4 session pairs from 1 dyads" in page
        or "n = 3 session pairs from 1 dyads" in page
    )
    assert f'<option value="{therapist}" selected>' in page


def test_web_export_and_codebook(client, researcher, data):
    wide = client.get("/research/export.csv?shape=wide&modality=audio")
    assert wide.status_code == 200 and wide.mimetype == "text/csv"
    assert wide.get_data(as_text=True).count("\n") == 4  # header + 3 sessions
    assert client.get("/research/export.csv?shape=tall").status_code == 422
    page = _page(client, "/research/codebook")
    assert "<code>client_score</code>" in page and "<code>subscale_goal</code>" in page
    assert "dta-c" in page and "Shared goals" in page


def test_pages_plots_and_exports_are_audited(app, client, researcher, data):
    client.get("/research/?modality=video")
    client.get("/research/plots/scatter.svg?modality=video")
    client.get("/research/export.csv?shape=long")
    actions = [(r.action, r.details) for r in audit_actions(app, "research.")]
    assert actions == [
        ("research.dashboard", {"modality": "video", "n_pairs": 4}),
        ("research.plot", {"modality": "video", "kind": "scatter", "n_pairs": 4}),
        ("research.export", {"shape": "long", "n_pairs": 7}),
    ]


@pytest.mark.parametrize("role", ["therapist", "client", "admin"])
def test_other_roles_cannot_open_research_pages(client, auth, make_user, role):
    auth.login(make_user(role))
    for path in (
        "/research/",
        "/research/plots/scatter.svg",
        "/research/export.csv",
        "/research/codebook",
    ):
        assert client.get(path).status_code == 403


@pytest.mark.parametrize(
    ("role", "link", "absent"),
    [
        ("researcher", 'href="/research/">Research</a>', "Research consent"),
        ("client", 'href="/consent">Research consent</a>', 'href="/research/"'),
        ("therapist", 'href="/consent">Research consent</a>', 'href="/research/"'),
    ],
)
def test_nav_links_by_role(client, auth, make_user, role, link, absent):
    auth.login(make_user(role))
    page = _page(client, "/settings")
    assert link in page and absent not in page


def test_researcher_dashboard_leads_to_the_research_pages(client, researcher):
    page = _page(client, "/researcher")
    assert 'href="/research/" data-testid="open-research"' in page
