"""docs/security.md, row 15: the admin audit page and CSV export; reads of health data are
audited."""

import csv
import io

from sqlalchemy import select

from teletherapy.extensions import db
from teletherapy.models import AuditEvent

from .helpers import pair, session_for


def _actions(app) -> list[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action)))


def test_admin_reads_and_exports_the_audit_log(app, client, auth, make_user):
    admin = make_user("admin")
    auth.login(admin)
    page = client.get("/admin/audit?action=login")
    assert page.status_code == 200 and b"login" in page.data
    export = client.get("/admin/audit.csv")
    assert export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert {"user.create", "login"} <= {r["action"] for r in rows}
    assert {"audit.read", "audit.export"} <= set(_actions(app))


def test_reading_health_data_is_audited(app, client, auth, make_user, token_for):
    therapist, patient = pair(app, make_user)
    s = session_for(app, therapist, patient)
    headers = token_for(patient)
    client.get(f"/api/v1/sessions/{s.id}", headers=headers)
    client.get(f"/api/v1/sessions/{s.id}/messages", headers=headers)
    auth.login(patient)
    client.get(f"/sessions/{s.id}")
    actions = _actions(app)
    assert {"session.read", "chat.read", "session.open"} <= set(actions)


def test_audit_rows_hold_no_free_text(app, client, auth, make_user):
    admin = make_user("admin")
    auth.login(admin)
    client.post(
        "/login", data={"email": "someone@example.org", "password": "secret words here"}
    )
    with app.app_context():
        for row in db.session.scalars(select(AuditEvent)):
            assert "secret words" not in str(row.details)
