"""schemathesis over the OpenAPI document: no 5xx, no undocumented status (docs/security.md,
row 12), every response's content type and body as the document shows them; query
parameters outside their documented schema are refused with a 4xx (row 27).

Runs against a SQLite app with a therapist's token; the example count is bounded so the
whole sweep fits CI. schemathesis needs the app at collection time, but the database
binding is shared by every app of the test run, so the fuzz database is bound (and
disposed) only around these tests.
"""

import os
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, status_code_conformance
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
)

from teletherapy import create_app
from teletherapy.config import Settings
from teletherapy.extensions import db, make_engine
from teletherapy.services import accounts, audit, migrations

PASSWORD = "fuzzing password 123"
_URL = "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="tt-fuzz-"), "fuzz.sqlite")
migrations.upgrade(_URL)
APP = create_app(
    {
        "ENV": "testing",
        "DATABASE_URL": _URL,
        "SECRET_KEY": "fuzz",
        "PSEUDONYM_KEY": "fuzz",
    }
)
with APP.app_context():
    accounts.create_user(
        db.session,
        email="fuzz@example.org",
        name="Fuzz",
        role="therapist",
        password=PASSWORD,
        actor_id=None,
        hash_method=Settings.of(APP.config).password_hash_method,
        origin=audit.CLI,
    )
TOKEN = (
    APP.test_client()
    .post(
        "/api/v1/auth/token", json={"email": "fuzz@example.org", "password": PASSWORD}
    )
    .get_json()["token"]
)
db.session.remove()
db.engine.dispose()  # nothing of this module stays open while other tests run

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)
# Operations with query parameters, fed values their schema excludes (docs/security.md, row 27).
queried = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP).include(
    method="GET",
    path_regex="^/(sessions|sessions/{session_id}/messages|ratings/pending)$",
)
queried.config.generation.update(modes=[GenerationMode.NEGATIVE])


CONFORMANCE = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)


@pytest.fixture(scope="module", autouse=True)
def fuzz_database():  # type: ignore[no-untyped-def]
    db.session.remove()
    db.engine = make_engine(_URL)
    db.session.configure(bind=db.engine)
    yield
    db.session.remove()
    db.engine.dispose()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_every_generated_request_without_5xx(case):
    if case.path != "/auth/token" or case.method != "DELETE":  # keep the token alive
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKEN}"}
    response = case.call()
    case.validate_response(response, checks=CONFORMANCE)


@queried.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_refuses_query_parameters_outside_their_schema(case):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKEN}"}
    response = case.call()
    case.validate_response(
        response,
        checks=(*CONFORMANCE, negative_data_rejection),
    )
