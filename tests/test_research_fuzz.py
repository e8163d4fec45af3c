"""schemathesis over the research operations as a researcher (the general sweep in
test_api_fuzz.py calls them as a therapist, who only ever gets 403): no 5xx, no
undocumented status, with consented data in the database so the analysis really runs.
"""

import os
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, status_code_conformance

from teletherapy import create_app
from teletherapy.config import Settings
from teletherapy.extensions import db, make_engine
from teletherapy.services import accounts, audit, migrations

PASSWORD = "fuzzing password 123"
_DB = os.path.join(tempfile.mkdtemp(prefix="tt-research-fuzz-"), "fuzz.sqlite")
migrations.upgrade(f"sqlite:///{_DB}")
APP = create_app(
    {
        "ENV": "testing",
        "DATABASE_URL": f"sqlite:///{_DB}",
        "SECRET_KEY": "fuzz",
        "PSEUDONYM_KEY": "fuzz",
        # 3 dyads, fewer than the default RESEARCH_MIN_CELL (5): the fuzzer should
        # reach the answers, not only the small-cell refusal
        "RESEARCH_MIN_CELL": 1,
    }
)
with APP.app_context():
    from teletherapy.services import demo

    demo.seed_history(db.session, Settings.from_app(APP), dyads=3, sessions=4)
    accounts.create_user(
        db.session,
        email="fuzz-researcher@example.org",
        name="Fuzz",
        role="researcher",
        password=PASSWORD,
        actor_id=None,
        hash_method=Settings.of(APP.config).password_hash_method,
        origin=audit.CLI,
    )
_TOKEN = (
    APP.test_client()
    .post(
        "/api/v1/auth/token",
        json={"email": "fuzz-researcher@example.org", "password": PASSWORD},
    )
    .get_json()["token"]
)

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP).include(
    path_regex="^/research/"
)


@pytest.fixture(scope="module", autouse=True)
def _bound_to_this_database():  # type: ignore[no-untyped-def]
    """Every create_app re-binds the one global engine: by the time this module runs,
    the suite's other apps have bound it elsewhere, so bind it back to this database."""
    engine = make_engine(f"sqlite:///{_DB}")
    db.session.remove()
    db.engine = engine
    db.session.configure(bind=engine)
    yield
    db.session.remove()
    engine.dispose()


def test_the_fuzzed_app_sees_its_own_data():
    headers = {"Authorization": f"Bearer {_TOKEN}"}
    r = APP.test_client().get("/api/v1/research/summary", headers=headers)
    assert r.status_code == 200 and r.get_json()["n_pairs"] == 12


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_research_api_answers_every_generated_request_without_5xx(case):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {_TOKEN}"}
    response = case.call()
    assert response.status_code != 401  # the token is valid: the operation really ran
    case.validate_response(
        response, checks=(not_a_server_error, status_code_conformance)
    )
