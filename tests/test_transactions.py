"""docs/security.md, row 17: a failure mid-transaction leaves no partial rows and a
writable database."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from teletherapy.extensions import db
from teletherapy.models import AuditEvent, CaseloadAssignment, TherapySession, User
from teletherapy.services import accounts, audit

from .helpers import pair, session_for


class Boom(RuntimeError):
    pass


def test_failed_audit_write_rolls_back_the_session(app, make_user, monkeypatch):
    therapist, patient = pair(app, make_user)

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise Boom("audit store down")

    monkeypatch.setattr(audit, "record", explode)
    with pytest.raises(Boom):
        session_for(app, therapist, patient)
    monkeypatch.undo()
    with app.app_context():
        db.session.rollback()  # what the request teardown does
        assert db.session.scalar(select(func.count()).select_from(TherapySession)) == 0
    assert session_for(app, therapist, patient).status == "scheduled"  # still writable


def test_duplicate_key_mid_transaction_leaves_nothing_behind(app, make_user):
    therapist, patient = pair(app, make_user)
    other = make_user("client")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        t, c = db.session.get(User, therapist.id), db.session.get(User, patient.id)
        with pytest.raises(Exception, match="already"):
            accounts.add_to_caseload(
                db.session,
                t,
                c,
                None,
                origin=audit.CLI,
            )  # UNIQUE (therapist, client)
        assert (
            db.session.scalar(select(func.count()).select_from(CaseloadAssignment)) == 1
        )
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
        t = db.session.get(User, therapist.id)
        accounts.add_to_caseload(
            db.session, t, db.session.get(User, other.id), None, origin=audit.CLI
        )
        assert (
            db.session.scalar(select(func.count()).select_from(CaseloadAssignment)) == 2
        )


def test_database_rejects_what_the_code_would_never_write(app, make_user):
    therapist, patient = pair(app, make_user)
    s = session_for(app, therapist, patient)
    with app.app_context():
        row = db.session.get(TherapySession, s.id)
        row.duration_minutes = 500  # past the CHECK constraint
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(TherapySession, s.id).duration_minutes == 50
