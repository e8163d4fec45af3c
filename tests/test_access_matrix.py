"""SECURITY.md #1: every route × every role, generated from the URL map and the policy table."""

import re

import pytest

from teletherapy.access import ACCESS

ROLES = ["anonymous", "therapist", "client", "researcher", "admin"]
FAKE_ID = "00000000-0000-4000-8000-000000000000"
SKIP_IN_LOOP = {"auth.logout", "api.token_delete"}  # they end the login; covered below


def _routes(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = re.sub(r"<int:[^>]+>", "1", rule.rule)
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", FAKE_ID, path)
            if rule.endpoint == "static":
                path = "/static/css/app.css"
            yield rule.endpoint, method, path


def test_every_route_has_a_policy_entry(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(ACCESS) == set(), "routes without a policy entry"
    assert set(ACCESS) - endpoints == set(), "policy entries without a route"


def _denied(status: int, location: str, role: str, api: bool) -> bool:
    if role == "anonymous":
        return status == 401 if api else (status == 302 and "/login" in location)
    return status == 403


@pytest.mark.parametrize("role", ROLES)
def test_role_route_matrix(app, client, make_user, token_for, auth, role):
    headers = {}
    if role != "anonymous":
        user = make_user(role)
        headers = token_for(user)
        auth.login(user)
    wrong = []
    for endpoint, method, path in _routes(app):
        if endpoint in SKIP_IN_LOOP:
            continue
        api = path.startswith("/api/")
        r = client.open(
            path,
            method=method,
            headers=headers if api else {},
            json={} if method != "GET" else None,
        )
        allowed = role in ACCESS[endpoint]
        denied = _denied(r.status_code, r.headers.get("Location", ""), role, api)
        r.close()
        if allowed == denied:
            wrong.append((role, method, path, r.status_code))
    assert wrong == []


@pytest.mark.parametrize("role", ROLES[1:])
def test_logout_is_for_signed_in_users(client, make_user, auth, role):
    auth.login(make_user(role))
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302  # back to the login page
    assert "/login" in client.get("/").headers["Location"]


def test_anonymous_cannot_logout(client):
    r = client.post("/logout")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize("role", ROLES[1:])
def test_any_signed_in_role_can_revoke_its_token(client, make_user, token_for, role):
    headers = token_for(make_user(role))
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_anonymous_cannot_revoke_a_token(client):
    r = client.delete("/api/v1/auth/token")
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "not_authenticated"
