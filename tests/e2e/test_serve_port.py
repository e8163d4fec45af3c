"""`teletherapy serve --host H --port P` with nothing in the environment holds a call,
and a page on an origin the server refuses says so in words (docs/security.md, row 5;
docs/api.md, `GET /sessions/socket-origin`)."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from .browser import DIAGNOSTICS, login, poll
from .conftest import World, make_world, upgrade_database
from .served import PlainServer, keep_screenshot

pytestmark = pytest.mark.e2e


def _serve(tmp_path_factory, **extra_env: str) -> Iterator[PlainServer]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("plain")
    server = PlainServer(
        database_url=f"sqlite:///{tmp}/plain.sqlite", extra_env=extra_env
    )
    upgrade_database(server)
    server.start(tmp)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    yield from _serve(tmp_path_factory)


@pytest.fixture(scope="module")
def foreign_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    yield from _serve(
        tmp_path_factory, TELETHERAPY_ALLOWED_ORIGINS='["https://clinic.example"]'
    )


def _open_call(browser, world: World, modality: str = "video") -> tuple[Page, Page]:  # type: ignore[no-untyped-def]
    session = world.schedule(modality)
    url = world.server.url + session["join_url"]
    client = login(browser, world.server.url, world.client)
    therapist = login(browser, world.server.url, world.therapist)
    client.goto(url)
    therapist.goto(url)
    return client, therapist


def test_serve_with_port_flag_and_no_environment_holds_a_call(browser, plain_server):
    client, therapist = _open_call(browser, make_world(plain_server))
    client.get_by_test_id("join").click()
    client.get_by_test_id("waiting-room").wait_for(state="visible")
    therapist.get_by_test_id("admit").click()
    for page in (client, therapist):
        stats = poll(
            page,
            DIAGNOSTICS,
            lambda s: s.get("framesDecoded", 0) > 0 and s.get("audioPackets", 0) > 0,
        )
        assert stats["pcState"] == "connected" and stats["dtlsState"] == "connected"
        assert page.get_by_test_id("remote-video").is_visible()


def test_page_on_a_refused_origin_says_what_to_set(browser, foreign_server):
    client, _ = _open_call(browser, make_world(foreign_server))
    client.get_by_test_id("join").click()
    notice = client.locator("#stopped")
    notice.wait_for(state="visible", timeout=20_000)
    text = notice.inner_text()
    # the page's own origin, exactly as the socket sends it
    assert foreign_server.url in text
    assert "TELETHERAPY_ALLOWED_ORIGINS" in text
    status = client.locator("#connection-status").inner_text()
    assert "Reconnecting" not in status
    keep_screenshot(client, "origin-refused")
