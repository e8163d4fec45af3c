"""A researcher on a live server with demo history: the dashboard and its plots render."""

import pytest

from .browser import login, poll
from .conftest import LiveServer, make_user

pytestmark = pytest.mark.e2e

IMAGES = (
    "() => [...document.querySelectorAll('[data-testid=research-plots] img')]"
    ".map(i => ({src: i.getAttribute('src'), done: i.complete, width: i.naturalWidth}))"
)


def _rendered(page) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    images = poll(page, IMAGES, lambda imgs: imgs and all(i["done"] for i in imgs), 60)
    return images  # type: ignore[no-any-return]


def test_researcher_sees_the_answer_and_every_plot(browser, live_server: LiveServer):
    out = live_server.cli("demo", "--dyads", "6", "--sessions", "8")
    assert "6 dyads, 48 ended sessions" in out
    researcher = make_user(live_server, "researcher")
    page = login(browser, live_server.url, researcher)
    page.goto(live_server.url + "/research/")
    answer = page.get_by_test_id("research-answer")
    assert "n = 48 session pairs from 6 dyads" in answer.inner_text()
    images = _rendered(page)
    assert [i["src"].split("?")[0] for i in images] == [
        "/research/plots/scatter.svg",
        "/research/plots/bland_altman.svg",
        "/research/plots/modality.svg",
        "/research/plots/trajectories.svg",
    ]
    assert all(i["width"] > 0 for i in images), images

    page.select_option("#f-modality", "video")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(lambda url: "modality=video" in url)
    images = _rendered(page)
    assert all("modality=video" in i["src"] and i["width"] > 0 for i in images), images
    png = page.request.get(
        live_server.url + "/research/plots/scatter.png?modality=video"
    )
    assert png.ok and png.headers["content-type"] == "image/png"
    page.context.close()
