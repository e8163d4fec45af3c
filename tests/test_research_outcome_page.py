"""The dashboard's outcome section and figure (issue 15) while the app's pairs carry no
outcome: the page says why there is no analysis, the figure says so too, and both go through
the same filters, audit and small-cell rule as the other plots."""

import html as entities

import pytest

from .research_helpers import audit_actions, consent, history


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
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


def test_dashboard_says_why_there_is_no_outcome_analysis(client, researcher, data):
    page = entities.unescape(client.get("/research/").get_data(as_text=True))
    section = page[page.index('data-testid="research-outcome"') :]
    assert "Not enough data for this analysis: no outcome column." in section
    assert 'data-testid="plot-outcome"' not in page  # no figure without an analysis
    assert page.count("<figcaption>") == 4  # the four pair plots only


def test_outcome_figure_is_svg_and_png_with_the_reason(app, client, researcher, data):
    svg = client.get("/research/plots/outcome.svg?modality=audio")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert "No outcome analysis: no outcome column." in svg.get_data(as_text=True)
    png = client.get("/research/plots/outcome.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    plots = audit_actions(app, "research.plot")
    assert [(e.details or {}).get("kind") for e in plots] == ["outcome", "outcome"]


def test_outcome_figure_unknown_format_is_404_before_filters(client, researcher):
    assert client.get("/research/plots/outcome.gif?modality=zoom").status_code == 404
    assert client.get("/research/plots/outcome.svg?modality=zoom").status_code == 422
