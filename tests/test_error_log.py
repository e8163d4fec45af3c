"""An unexpected error is logged by the route's pattern, never by the path: a path can
carry a link secret (docs/security.md, row 24) or a record's id."""

import logging

import pytest

from teletherapy.services import passwords


def test_a_crash_on_a_reset_link_never_logs_the_link(
    make_app, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    secret = "S3cretLinkToken-" + "x" * 27

    detail = "row of " + "Canary Person"  # what an error message may carry

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError(detail)

    monkeypatch.setattr(passwords, "link_user", broken)
    with caplog.at_level(logging.ERROR):
        r = app.test_client().get(f"/password/reset/{secret}")
    assert r.status_code == 500
    assert "unhandled RuntimeError on GET /password/reset/<token>" in caplog.text
    assert secret not in caplog.text
    assert "Canary Person" not in caplog.text  # messages can carry data


@pytest.mark.parametrize("path", ["/api/v1/sessions/abc"])
def test_a_crash_on_an_api_route_logs_its_pattern(
    make_app, make_user, token_for, monkeypatch, caplog, path
) -> None:  # type: ignore[no-untyped-def]
    from teletherapy.services import scheduling

    app = make_app(PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    user = make_user("therapist")
    headers = {
        "Authorization": "Bearer "
        + client.post(
            "/api/v1/auth/token",
            json={"email": user.email, "password": "correct horse battery staple"},
        ).get_json()["token"]
    }

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(scheduling, "for_participant", broken)
    with caplog.at_level(logging.ERROR):
        r = client.get(path, headers=headers)
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "internal"
    assert "/api/v1/sessions/<session_id>" in caplog.text
    assert "/sessions/abc" not in caplog.text
