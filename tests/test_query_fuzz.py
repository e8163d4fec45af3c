"""docs/security.md, row 27: no 5xx for any query parameter.

Every GET route of the URL map is called, as a role the policy lets through, with
hostile values in each of its query parameters (the API's from the OpenAPI document,
the pages' from the table below) and in one parameter nobody reads: huge and negative
integers, base64 of a huge integer (a forged cursor), NUL, non-base64, a 10 MB string.
The answer is never 5xx; a 4xx carries the error shape (JSON for the API, the error
page for people). Parameters that take a number, a cursor or a closed set of words
refuse every one of these values.
"""

import base64
import inspect
import re
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from teletherapy.access import ACCESS
from teletherapy.api import docs

from .conftest import PASSWORD
from .helpers import pair, session_for

FILTERS = ("modality", "instrument", "from", "to", "therapist")
# Pages that read their query string, and what they read (hand-written: a page that
# starts reading request.args without a row here fails test_every_page_reading_...).
PAGE_QUERY = {
    "admin.audit_log": ("page", "action", "actor"),
    "admin.audit_export": ("action", "actor"),
    "auth.login": ("next",),
    "sessions.socket_origin": ("origin",),
    "outcomes.before": ("ahead",),
    "research.index": FILTERS,
    "research.plot": FILTERS,
    "research.export": (*FILTERS, "shape"),
}
# Parameters with a closed form: every hostile value below must be refused (4xx).
STRICT = {"limit", "cursor", "page", "modality", "from", "to", "therapist", "shape"}
PATH_VALUES = {
    "kind": "scatter",
    "fmt": "svg",
    "filename": "css/app.css",
    "token": "A" * 43,  # a link secret that is not one (password reset, invitation)
}
ROLE_ORDER = ("therapist", "client", "researcher", "admin", "anonymous")
TEN_MB = 10 * 1024 * 1024


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


HOSTILE = {
    "huge": str(10**30),
    "huge-negative": str(-(10**30)),
    "negative": "-1",
    "zero": "0",
    "cursor-of-huge": _b64(str(10**30)),
    "cursor-of-negative": _b64("-5"),
    "cursor-of-huge-negative": _b64(str(-(10**30))),
    "float-overflow": "1e309",
    "nul": "1\x00",
    "not-base64": "%%%*!",
    "ten-megabytes": "9" * TEN_MB,
}


def _api_query() -> dict[str, tuple[str, ...]]:
    """API endpoint → the query parameters its OpenAPI operation declares."""
    by_path = {
        f"/api/v1{op.path}": tuple(op.query) for op in docs.OPERATIONS if op.query
    }
    return {f"GET {path}": names for path, names in by_path.items()}


def _get_routes(app, ids: dict[str, str]):  # type: ignore[no-untyped-def]
    """(endpoint, path, role, query parameters) for every GET route; ``ids`` holds
    the path values of real rows (a session, its client)."""
    api = _api_query()
    values = {**PATH_VALUES, **ids, "name": "socket.io.esm.min.js"}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)
        role = next(r for r in ROLE_ORDER if r in ACCESS[rule.endpoint])
        openapi = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        names = PAGE_QUERY.get(rule.endpoint) or api.get(f"GET {openapi}", ())
        yield rule.endpoint, path, role, (*names, "unread")


@pytest.fixture
def callers(app, make_user, token_for):  # type: ignore[no-untyped-def]
    """Request headers (session cookie and bearer token) per role, and a session."""
    therapist, patient = pair(app, make_user)
    users = {"therapist": therapist, "client": patient}
    users |= {r: make_user(r) for r in ("researcher", "admin")}
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    cookie = app.config["SESSION_COOKIE_NAME"]
    for role, user in users.items():
        web = app.test_client()
        form = {"email": user.email, "password": PASSWORD}
        assert web.post("/login", data=form).status_code == 302
        signed_in = {"Cookie": f"{cookie}={web.get_cookie(cookie).value}"}
        headers[role] = signed_in | token_for(user)
    ids = {
        "session_id": session_for(app, therapist, patient).id,
        "client_id": patient.id,
    }
    return headers, ids


def _call(app, headers, path: str, query: dict[str, str]) -> Response:  # type: ignore[no-untyped-def]
    """One GET straight through WSGI: the test client's own URL handling takes ten
    times longer than the app on a 10 MB query string."""
    base = app.test_client().environ_base  # the address and agent the login saw
    environ = EnvironBuilder(
        path=path, headers=headers, environ_base=base
    ).get_environ()
    environ["QUERY_STRING"] = urlencode(query)
    started: list = []
    body = app(
        environ, lambda status, hdrs, exc_info=None: started.extend([status, hdrs])
    )
    try:
        return Response(b"".join(body), status=started[0], headers=started[1])
    finally:
        getattr(body, "close", lambda: None)()


def _check(endpoint: str, path: str, name: str, value: str, r) -> list[str]:  # type: ignore[no-untyped-def]
    """What is wrong with one answer (empty when it keeps the promise)."""
    where = f"{endpoint} ?{name}={value[:20]!r}: {r.status_code}"
    if r.status_code >= 500:
        return [where]
    if name in STRICT and not 400 <= r.status_code < 500:
        return [f"{where} (accepted)"]
    if r.status_code < 400:
        return []
    if path.startswith("/api/") or r.is_json:
        body = r.get_json(silent=True) or {}
        error = body.get("error", {})
        if not (error.get("code") and error.get("message")):
            return [f"{where} without the error shape"]
        if r.status_code == 422 and name not in error.get("details", {}):
            return [f"{where} details do not name {name}"]
        return []
    return [] if r.mimetype == "text/html" else [f"{where} is not the error page"]


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_no_query_parameter_of_any_get_route_gives_a_5xx(app, callers, kind):
    headers, ids = callers
    value, wrong, calls = HOSTILE[kind], [], 0
    for endpoint, path, role, names in _get_routes(app, ids):
        for name in names:
            r = _call(app, headers[role], path, {name: value})
            wrong += _check(endpoint, path, name, value, r)
            calls += 1
    assert calls > 40  # the table and the document really were read
    assert wrong == []


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/api/v1/sessions", "therapist"),
        ("/api/v1/ratings/pending", "client"),
        ("/api/v1/research/pairs", "researcher"),
        ("/admin/audit", "admin"),
    ],
)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    value=st.one_of(
        st.integers().map(str),
        st.integers().map(lambda n: _b64(str(n))),
        st.text(max_size=60),
        st.binary(max_size=40).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    ),
    name=st.sampled_from(["limit", "cursor", "page"]),
)
def test_paging_parameters_never_give_a_5xx(app, callers, path, role, value, name):
    headers, _ = callers
    r = _call(app, headers[role], path, {name: value})
    assert r.status_code < 500, (path, name, value)
    if path.startswith("/api/") and r.status_code >= 400:
        assert r.get_json()["error"]["code"]


def test_the_api_paging_rejects_a_cursor_beyond_any_page(client, make_user, token_for):
    headers = token_for(make_user("therapist"))
    r = client.get(
        "/api/v1/sessions", query_string={"cursor": _b64(str(10**30))}, headers=headers
    )
    assert r.status_code == 422
    assert r.get_json()["error"]["details"] == {"cursor": "not a cursor from this API"}


def test_every_page_reading_its_query_string_has_a_row(app):
    readers = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if not endpoint.startswith("api.")
        and "request.args" in inspect.getsource(inspect.unwrap(view))
    }
    assert readers <= set(PAGE_QUERY)


def test_every_api_view_reading_its_query_string_declares_it(app):
    declared = {op.path for op in docs.OPERATIONS if op.query}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or "GET" not in rule.methods:
            continue
        source = inspect.getsource(inspect.unwrap(app.view_functions[rule.endpoint]))
        if "request.args" in source or "page_args" in source:
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)[
                len("/api/v1") :
            ]
            assert path in declared, rule.endpoint
