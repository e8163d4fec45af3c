"""REST API: tokens, error shape and status codes, sessions, IDOR (docs/api.md;
docs/security.md, row 2)."""

from datetime import timedelta

import pytest
import time_machine

from teletherapy import create_app
from teletherapy.extensions import db

from .conftest import PASSWORD
from .helpers import pair, session_for

START = "2026-12-01T10:00:00+01:00"


def _error(r, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.get_data(as_text=True)
    body = r.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_token_issue_returns_contract_shape(client, make_user):
    user = make_user("therapist")
    body = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}
    ).get_json()
    assert set(body) == {"token", "expires_at", "user"}
    assert body["user"] == {
        "id": user.id,
        "role": "therapist",
        "display_name": user.display_name,
    }
    assert body["expires_at"].endswith("Z")


def test_token_expires(app, client, make_user, token_for):
    headers = token_for(make_user("client"))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with time_machine.travel(timedelta(hours=app.config["TOKEN_TTL_HOURS"] + 1)):
        _error(client.get("/api/v1/me", headers=headers), 401, "not_authenticated")


def test_revoked_token_stops_working(client, make_user, token_for):
    headers = token_for(make_user("client"))
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    _error(client.get("/api/v1/me", headers=headers), 401)


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer nope", "Basic abc", "Bearer " + "x" * 300]
)
def test_bad_credentials_get_401(client, header):
    _error(
        client.get("/api/v1/me", headers={"Authorization": header}),
        401,
        "not_authenticated",
    )


def test_deactivated_users_token_stops_working(app, client, make_user, token_for, auth):
    user, admin = make_user("client"), make_user("admin")
    headers = token_for(user)
    auth.login(admin)
    client.post(f"/admin/users/{user.id}/active/0")
    _error(client.get("/api/v1/me", headers=headers), 401)


def test_token_issue_is_rate_limited_with_retry_after(
    database_url, tmp_path, make_user
):
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "k",
            "PSEUDONYM_KEY": "p",
            "AUTH_RATE_LIMIT": "3 per minute",
        }
    )
    app.instance_path = str(tmp_path)
    c = app.test_client()
    for _ in range(3):
        c.post(
            "/api/v1/auth/token", json={"email": "x@example.org", "password": "nope"}
        )
    r = c.post(
        "/api/v1/auth/token", json={"email": "x@example.org", "password": "nope"}
    )
    _error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0
    db.engine.dispose()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"duration_minutes": "50"}, "duration_minutes"),
        ({"duration_minutes": 50.5}, "duration_minutes"),
        ({"duration_minutes": True}, "duration_minutes"),
        ({"duration_minutes": None}, "duration_minutes"),
        ({"duration_minutes": 4}, "duration_minutes"),
        ({"duration_minutes": 241}, "duration_minutes"),
        ({"modality": "hologram"}, "modality"),
        ({"scheduled_start": "2026-12-01T10:00:00"}, "scheduled_start"),
        ({"scheduled_start": "tomorrow"}, "scheduled_start"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_session_fields_get_422_per_field(
    app, client, make_user, token_for, body, field
):
    therapist, patient = pair(app, make_user)
    payload = {
        "client_id": patient.id,
        "modality": "video",
        "scheduled_start": START,
        "duration_minutes": 50,
        **body,
    }
    err = _error(
        client.post("/api/v1/sessions", json=payload, headers=token_for(therapist)),
        422,
        "invalid",
    )
    assert set(err["details"]) == {field}
    assert isinstance(err["details"][field], str)
    assert (
        client.get("/api/v1/sessions", headers=token_for(therapist)).get_json()["items"]
        == []
    )


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"not json", b"", b"null"])
def test_body_that_is_not_an_object_gets_400(app, client, make_user, token_for, raw):
    therapist, _ = pair(app, make_user)
    r = client.post(
        "/api/v1/sessions",
        data=raw,
        headers={**token_for(therapist), "Content-Type": "application/json"},
    )
    _error(r, 400, "bad_request")


def test_schedule_for_client_outside_caseload_is_422(app, client, make_user, token_for):
    therapist, stranger = make_user("therapist"), make_user("client")
    payload = {
        "client_id": stranger.id,
        "modality": "video",
        "scheduled_start": START,
        "duration_minutes": 50,
    }
    err = _error(
        client.post("/api/v1/sessions", json=payload, headers=token_for(therapist)), 422
    )
    assert "client_id" in err["details"]


def test_session_lifecycle_through_the_api(app, client, make_user, token_for):
    therapist, patient = pair(app, make_user)
    t, c = token_for(therapist), token_for(patient)
    payload = {
        "client_id": patient.id,
        "modality": "in_person",
        "scheduled_start": START,
        "duration_minutes": 50,
    }
    r = client.post("/api/v1/sessions", json=payload, headers=t)
    assert r.status_code == 201
    s = r.get_json()
    assert s["status"] == "scheduled" and s["scheduled_start"] == "2026-12-01T09:00:00Z"
    assert s["join_url"] == f"/sessions/{s['id']}"
    assert (
        client.get("/api/v1/sessions", headers=c).get_json()["items"][0]["id"]
        == s["id"]
    )
    _error(
        client.post(f"/api/v1/sessions/{s['id']}/end", headers=t), 409, "invalid_state"
    )
    assert (
        client.post(f"/api/v1/sessions/{s['id']}/start", headers=t).get_json()["status"]
        == "live"
    )
    ended = client.post(f"/api/v1/sessions/{s['id']}/end", headers=t).get_json()
    assert ended["status"] == "ended" and ended["ended_at"] >= ended["started_at"]
    _error(client.post(f"/api/v1/sessions/{s['id']}/cancel", headers=t), 409)


def test_cancel_twice_is_409(app, client, make_user, token_for):
    therapist, patient = pair(app, make_user)
    s = session_for(app, therapist, patient)
    t = token_for(therapist)
    assert (
        client.post(f"/api/v1/sessions/{s.id}/cancel", headers=t).get_json()["status"]
        == "cancelled"
    )
    _error(client.post(f"/api/v1/sessions/{s.id}/cancel", headers=t), 409)


def test_pagination_with_cursor(app, client, make_user, token_for):
    therapist, patient = pair(app, make_user)
    ids = {session_for(app, therapist, patient).id for _ in range(5)}
    t = token_for(therapist)
    first = client.get("/api/v1/sessions?limit=2", headers=t).get_json()
    seen = [s["id"] for s in first["items"]]
    cursor = first["next"]
    while cursor:
        page = client.get(
            f"/api/v1/sessions?limit=2&cursor={cursor}", headers=t
        ).get_json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next"]
    assert sorted(seen) == sorted(ids)
    _error(client.get("/api/v1/sessions?limit=0", headers=t), 422)
    _error(client.get("/api/v1/sessions?cursor=%%%", headers=t), 422)


@pytest.mark.parametrize(
    "method, suffix",
    [
        ("GET", ""),
        ("POST", "/end"),
        ("POST", "/cancel"),
        ("POST", "/start"),
        ("GET", "/messages"),
    ],
)
def test_other_peoples_sessions_look_like_unknown_ones(
    app, client, make_user, token_for, method, suffix
):
    therapist, patient = pair(app, make_user)
    s = session_for(app, therapist, patient)
    other_therapist, other_client = pair(app, make_user)
    for outsider in (other_therapist, other_client):
        headers = token_for(outsider)
        theirs = client.open(
            f"/api/v1/sessions/{s.id}{suffix}", method=method, headers=headers
        )
        unknown = client.open(
            f"/api/v1/sessions/{'0' * 8}-0000-4000-8000-{'0' * 12}{suffix}",
            method=method,
            headers=headers,
        )
        if outsider.role == "client" and method == "POST":
            assert (
                theirs.status_code == unknown.status_code == 403
            )  # the role may not do it at all
            continue
        assert _error(theirs, 404) == _error(unknown, 404)


def test_other_peoples_session_page_is_404(app, client, auth, make_user):
    therapist, patient = pair(app, make_user)
    s = session_for(app, therapist, patient)
    auth.login(make_user("client"))
    assert client.get(f"/sessions/{s.id}").status_code == 404
    assert client.get(f"/sessions/{s.id}/rating").status_code == 404


def test_unknown_route_and_method_use_the_error_shape(client):
    _error(client.get("/api/v1/nothing-here"), 404, "not_found")
    _error(client.put("/api/v1/openapi.json"), 405, "method_not_allowed")


def test_openapi_document_describes_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (method, path) in documented
    create = doc["paths"]["/sessions"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    schema = doc["components"]["schemas"][create["$ref"].rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["duration_minutes"]["maximum"] == 240


@pytest.mark.parametrize("email", ["a\x00@example.org", "\x00"])
def test_nul_characters_are_refused_not_a_server_error(client, email):
    r = client.post(
        "/api/v1/auth/token", json={"email": email, "password": "whatever it is"}
    )
    assert r.status_code == 422
    form = client.post("/login", data={"email": email, "password": "whatever it is"})
    assert form.status_code in (200, 401)
