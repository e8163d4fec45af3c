"""Who is calling the API: one is_api_request(), and access.enforce resolving the
bearer token itself (docs/architecture.md, web_auth.py and access.py)."""

from teletherapy import access

from .conftest import PASSWORD


def _error_code(r) -> str:  # type: ignore[no-untyped-def]
    return str(r.get_json()["error"]["code"])


def test_enforce_resolves_the_token_whatever_the_order(app, client, make_user):
    """enforce first among the before_request functions: a token still works."""
    funcs = app.before_request_funcs[None]
    funcs.remove(access.enforce)
    funcs.insert(0, access.enforce)
    user = make_user("therapist")
    r = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {r.get_json()['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/sessions", headers=headers).status_code == 200
    assert _error_code(client.get("/api/v1/me")) == "not_authenticated"


def test_the_caller_is_not_carried_between_requests(app, client, make_user, token_for):
    """Requests sharing one app context (and so one flask.g) each resolve their own."""
    headers = token_for(make_user("client"))
    with app.app_context():
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        r = client.get("/api/v1/me")
    assert r.status_code == 401 and _error_code(r) == "not_authenticated"


def test_unrouted_api_paths_answer_json_and_pages_html(client, make_user, token_for):
    headers = token_for(make_user("client"))
    for path in ("/api/v1/nothing-here", "/api/other"):
        r = client.get(path, headers=headers)
        assert r.status_code == 404 and _error_code(r) == "not_found"
    r = client.delete("/api/v1/me", headers=headers)
    assert r.status_code == 405 and _error_code(r) == "method_not_allowed"
    page = client.get("/nothing-here")
    assert page.status_code == 404 and page.mimetype == "text/html"
