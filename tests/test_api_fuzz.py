"""schemathesis over the OpenAPI document: no 5xx, no undocumented status (issue 6).

Runs against a SQLite app with a therapist's token; the example count is bounded so the
whole sweep fits CI.
"""

import os
import tempfile

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, status_code_conformance

from teletherapy import create_app
from teletherapy.extensions import db
from teletherapy.services import accounts, migrations

_DB = os.path.join(tempfile.mkdtemp(prefix="tt-fuzz-"), "fuzz.sqlite")
migrations.upgrade(f"sqlite:///{_DB}")
APP = create_app(
    {
        "ENV": "testing",
        "DATABASE_URL": f"sqlite:///{_DB}",
        "SECRET_KEY": "fuzz",
        "PSEUDONYM_KEY": "fuzz",
    }
)
with APP.app_context():
    _USER = accounts.create_user(
        db.session,
        email="fuzz@example.org",
        name="Fuzz",
        role="therapist",
        password="fuzzing password 123",
        actor_id=None,
    )
_TOKEN = (
    APP.test_client()
    .post(
        "/api/v1/auth/token",
        json={"email": "fuzz@example.org", "password": "fuzzing password 123"},
    )
    .get_json()["token"]
)

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_every_generated_request_without_5xx(case):
    if case.path != "/auth/token" or case.method != "DELETE":  # keep the token alive
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {_TOKEN}"}
    response = case.call()
    case.validate_response(
        response, checks=(not_a_server_error, status_code_conformance)
    )
