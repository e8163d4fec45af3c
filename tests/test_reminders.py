"""Session reminders and calendar files (RFC 5545) by mail, through a real SMTP
server in this process: each reminder once however often `teletherapy reminders
send` runs (also two runs at once); the calendar file of scheduling, rescheduling
and cancelling keeps one UID and raises its SEQUENCE; the reschedule API; and no
clinical word in any of these mails."""

import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from teletherapy import mailer, reminders
from teletherapy.extensions import db
from teletherapy.models import AuditEvent, OutgoingMail, TherapySession, User
from teletherapy.services import accounts, audit, scheduling
from teletherapy.services import reminders as reminder_service

from .helpers import PASSWORD, new_user
from .smtp import Received, SmtpServer

# Words a mail about a session must never carry: the modality, ratings
CLINICAL = re.compile(r"video|audio|\bchat|in[ _]person|rating|alliance|score", re.I)


def _people(app: Flask, **tz: str) -> tuple[User, User]:
    tag = uuid.uuid4().hex[:6]
    therapist = new_user(app, "therapist", f"t-{tag}@example.org", "Dana Reyes")
    client = new_user(app, "client", f"c-{tag}@example.org", "Sam Lee")
    with app.app_context():
        t = db.session.get(User, therapist.id)
        c = db.session.get(User, client.id)
        assert t is not None and c is not None
        accounts.add_to_caseload(db.session, t, c, None, origin=audit.CLI)
        t.timezone = tz.get("therapist", "UTC")
        c.timezone = tz.get("client", "UTC")
        db.session.commit()
        db.session.expunge_all()
    return therapist, client


def _session(
    app: Flask,
    therapist: User,
    client: User,
    start: datetime,
    *,
    modality: str = "video",
    notify: bool = False,
) -> TherapySession:
    with app.test_request_context():
        t = db.session.get(User, therapist.id)
        assert t is not None
        row = scheduling.schedule(
            db.session,
            t,
            client_id=client.id,
            modality=modality,
            scheduled_start=start,
            duration_minutes=50,
            origin=audit.CLI,
            notify=reminders.calendar_mails if notify else None,
        )
        db.session.expunge(row)
        return row


def _send(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    return str(result.output)


def _cal(msg: Received) -> icalendar.Calendar:
    cal = icalendar.Calendar.from_ical(msg.attachment(".ics"))
    inline = icalendar.Calendar.from_ical(msg.part("text/calendar"))
    assert inline.to_ical() == cal.to_ical()  # the same file inline and attached
    return cal


def _event(msg: Received) -> Any:
    (event,) = _cal(msg).walk("VEVENT")
    return event


def _neutral(msg: Received) -> None:
    for body in (msg.subject, msg.text, msg.html, msg.attachment(".ics").decode()):
        assert not CLINICAL.search(body), CLINICAL.search(body)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def test_one_reminder_per_participant_however_often_the_command_runs(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    therapist, client = _people(mail_app)
    now = _now()
    due = _session(mail_app, therapist, client, now + timedelta(hours=2))
    _session(mail_app, therapist, client, now + timedelta(hours=30))  # too early
    _session(mail_app, therapist, client, now - timedelta(minutes=5))  # has begun
    cancelled = _session(mail_app, therapist, client, now + timedelta(hours=3))
    with mail_app.app_context():
        t = db.session.get(User, therapist.id)
        assert t is not None
        scheduling.cancel(db.session, t, cancelled.id, origin=audit.CLI)
    # a second client whose account is deactivated: only the therapist is reminded
    _, inactive = _people(mail_app)
    with mail_app.app_context():
        c = db.session.get(User, inactive.id)
        t = db.session.get(User, therapist.id)
        assert c is not None and t is not None
        accounts.add_to_caseload(db.session, t, c, None, origin=audit.CLI)
        c.active = False
        db.session.commit()
    other = _session(mail_app, therapist, inactive, now + timedelta(hours=5))

    assert _send(mail_app).startswith("queued 3 reminders for 2 sessions; sent 3")
    for _ in range(2):
        assert _send(mail_app).startswith("queued 0 reminders for 0 sessions; sent 0")
    got = smtp_server.wait_for(3)
    assert len(got) == 3
    assert len(smtp_server.to(therapist.email)) == 2
    (to_client,) = smtp_server.to(client.email)
    assert smtp_server.to(inactive.email) == []
    uids = {str(_event(m)["UID"]) for m in smtp_server.to(therapist.email)}
    assert uids == {f"{due.id}@clinic.example", f"{other.id}@clinic.example"}
    assert to_client.subject.startswith("Reminder: your session on")
    assert "Dana Reyes" in to_client.text and "Sam Lee" in to_client.text
    assert f"https://clinic.example/sessions/{due.id}" in to_client.text
    assert f'href="https://clinic.example/sessions/{due.id}"' in to_client.html
    for msg in got:
        _neutral(msg)
    with mail_app.app_context():
        row = db.session.get(TherapySession, due.id)
        assert row is not None and row.reminded_at is not None


def test_two_runs_at_once_claim_each_session_once(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    therapist, client = _people(mail_app)
    now = _now()
    ids = {
        _session(mail_app, therapist, client, now + timedelta(hours=1 + i)).id
        for i in range(4)
    }
    barrier = threading.Barrier(2)
    results: list[reminder_service.Queued] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with mail_app.app_context():
                barrier.wait()
                results.append(
                    reminder_service.queue_due(
                        db.session(), reminders.reminder_mail, hours_before=24
                    )
                )
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sum(r.sessions for r in results) == 4
    assert sum(r.mails for r in results) == 8
    # back to back: nothing left
    with mail_app.app_context():
        again = reminder_service.queue_due(
            db.session(), reminders.reminder_mail, hours_before=24
        )
        assert again == reminder_service.Queued(0, 0)
        queued = db.session.scalar(
            select(func.count())
            .select_from(OutgoingMail)
            .where(OutgoingMail.kind == "reminder")
        )
        assert queued == 8
    assert mailer.drain(mail_app).sent == 8
    smtp_server.wait_for(8)
    for address in (therapist.email, client.email):
        mine = smtp_server.to(address)
        assert sorted(str(_event(m)["UID"]).split("@")[0] for m in mine) == sorted(ids)


def test_the_calendar_file_is_in_utc_with_a_stable_uid_and_the_join_link(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    therapist, client = _people(
        mail_app, therapist="America/New_York", client="Asia/Tokyo"
    )
    # scheduled with a +05:30 offset through the API
    api = mail_app.test_client()
    token = api.post(
        "/api/v1/auth/token", json={"email": therapist.email, "password": PASSWORD}
    ).get_json()["token"]
    start = (_now() + timedelta(hours=3)).replace(second=0)
    local = start.astimezone(
        datetime.strptime("+0530", "%z").tzinfo  # type: ignore[arg-type]
    )
    r = api.post(
        "/api/v1/sessions",
        json={
            "client_id": client.id,
            "modality": "video",
            "scheduled_start": local.isoformat(),
            "duration_minutes": 45,
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.get_json()
    session_id = r.get_json()["id"]
    join_path = r.get_json()["join_url"]
    assert mailer.drain(mail_app).sent == 2  # the invitations (REQUEST, SEQUENCE 0)
    assert _send(mail_app).startswith("queued 2 reminders for 1 sessions; sent 2")
    got = smtp_server.wait_for(4)
    invitations = [m for m in got if not m.subject.startswith("Reminder")]
    reminders_ = [m for m in got if m.subject.startswith("Reminder")]
    assert len(invitations) == len(reminders_) == 2
    for msg in got:
        _neutral(msg)
        cal = _cal(msg)
        assert str(cal["METHOD"]) == "REQUEST"
        assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"])
        assert msg.message.get_content_type() == "multipart/mixed"
        event = _event(msg)
        assert event.decoded("DTSTART") == start
        assert event.decoded("DTSTART").utcoffset() == timedelta(0)
        assert event["DTSTART"].to_ical().endswith(b"Z")
        assert event.decoded("DTEND") == start + timedelta(minutes=45)
        assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
        assert str(event["UID"]) == f"{session_id}@clinic.example"
        assert int(event["SEQUENCE"]) == 0
        assert str(event["STATUS"]) == "CONFIRMED"
        assert str(event["URL"]) == f"https://clinic.example{join_path}"
        assert f"https://clinic.example{join_path}" in str(event["DESCRIPTION"])
        assert str(event["ORGANIZER"]) == f"mailto:{therapist.email}"
        assert str(event["ATTENDEE"]) == f"mailto:{client.email}"
    # each sees the other's name and the time in their own time zone
    for msg in smtp_server.to(client.email):
        assert str(_event(msg)["SUMMARY"]) == "Session with Dana Reyes"
        tokyo = start.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
        assert tokyo.strftime("%H:%M") + " JST" in msg.text
    for msg in smtp_server.to(therapist.email):
        assert str(_event(msg)["SUMMARY"]) == "Session with Sam Lee"
        ny = start.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
        assert ny.strftime("%H:%M ") + ny.tzname() in msg.text  # type: ignore[operator]


def _api(app: Flask, user: User) -> tuple[Any, dict[str, str]]:
    client = app.test_client()
    r = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}
    )
    assert r.status_code == 200
    return client, {"Authorization": f"Bearer {r.get_json()['token']}"}


def test_schedule_reschedule_cancel_keep_one_uid_and_raise_the_sequence(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    therapist, client = _people(mail_app)
    api, auth = _api(mail_app, therapist)
    first = (_now() + timedelta(hours=2)).replace(second=0)
    r = api.post(
        "/api/v1/sessions",
        json={
            "client_id": client.id,
            "modality": "audio",
            "scheduled_start": first.isoformat(),
            "duration_minutes": 50,
        },
        headers=auth,
    )
    assert r.status_code == 201
    sid = r.get_json()["id"]
    assert _send(mail_app).startswith("queued 2 reminders for 1 sessions")
    mailer.drain(mail_app)
    smtp_server.wait_for(4)  # 2 invitations, 2 reminders

    moved = first + timedelta(hours=3)
    r = api.post(
        f"/api/v1/sessions/{sid}/reschedule",
        json={"scheduled_start": moved.isoformat(), "duration_minutes": 30},
        headers=auth,
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["scheduled_start"] == moved.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["duration_minutes"] == 30 and body["status"] == "scheduled"
    assert mailer.drain(mail_app).sent == 2
    # the reminder for the new time goes out (reminded_at was cleared)
    assert _send(mail_app).startswith("queued 2 reminders for 1 sessions; sent 2")
    r = api.post(f"/api/v1/sessions/{sid}/cancel", headers=auth)
    assert r.status_code == 200
    assert mailer.drain(mail_app).sent == 2
    got = smtp_server.wait_for(10)
    assert len(got) == 10

    for address in (therapist.email, client.email):
        mine = smtp_server.to(address)
        assert len(mine) == 5
        for msg in mine:
            _neutral(msg)
        booked, reminder1, moved_mail, reminder2, cancel = mine
        for msg in mine:
            assert str(_event(msg)["UID"]) == f"{sid}@clinic.example"
        assert booked.subject.startswith("Session booked")
        assert moved_mail.subject.startswith("Session moved to")
        assert cancel.subject.startswith("Session cancelled")
        seq = {id(m): int(_event(m)["SEQUENCE"]) for m in mine}
        assert seq[id(booked)] == seq[id(reminder1)] == 0
        assert seq[id(moved_mail)] == seq[id(reminder2)] == 1
        assert seq[id(cancel)] == 2
        for msg in (booked, reminder1, moved_mail, reminder2):
            assert str(_cal(msg)["METHOD"]) == "REQUEST"
            assert msg.message.get_content_type() == "multipart/mixed"
        assert _event(booked).decoded("DTSTART") == first
        assert _event(moved_mail).decoded("DTSTART") == moved
        assert _event(moved_mail).decoded("DTEND") == moved + timedelta(minutes=30)
        assert _event(reminder2).decoded("DTSTART") == moved
        assert str(_cal(cancel)["METHOD"]) == "CANCEL"
        assert str(_event(cancel)["STATUS"]) == "CANCELLED"
        assert cancel.attachment("cancel.ics")
    with mail_app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.target_id == sid)
        ).all()
        assert "session.reschedule" in actions


def test_reschedule_api_is_the_therapists_for_scheduled_sessions(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    therapist, client = _people(mail_app)
    stranger, _ = _people(mail_app)
    now = _now()
    row = _session(mail_app, therapist, client, now + timedelta(days=2))
    later = (now + timedelta(days=3)).isoformat()
    url = f"/api/v1/sessions/{row.id}/reschedule"

    api, auth = _api(mail_app, client)
    assert (
        api.post(url, json={"scheduled_start": later}, headers=auth).status_code == 403
    )
    api, auth = _api(mail_app, stranger)
    r = api.post(url, json={"scheduled_start": later}, headers=auth)
    assert r.status_code == 404
    r = api.post(
        "/api/v1/sessions/no-such-session/reschedule",
        json={"scheduled_start": later},
        headers=auth,
    )
    assert r.status_code == 404

    api, auth = _api(mail_app, therapist)
    bad = [
        ({"scheduled_start": later, "room": "x"}, "room"),
        ({"scheduled_start": "2030-01-01T10:00:00"}, "scheduled_start"),  # no offset
        ({"scheduled_start": "tomorrow"}, "scheduled_start"),
        (
            {"scheduled_start": (now - timedelta(hours=1)).isoformat()},
            "scheduled_start",
        ),
        ({"scheduled_start": later, "duration_minutes": 300}, "duration_minutes"),
        ({}, "scheduled_start"),
    ]
    for body, field in bad:
        r = api.post(url, json=body, headers=auth)
        assert r.status_code == 422, (body, r.get_json())
        assert field in r.get_json()["error"]["details"], r.get_json()
    assert api.post(url, data="[]", headers=auth).status_code == 400
    r = api.post(url, json={"scheduled_start": later}, headers=auth)
    assert r.status_code == 200
    assert r.get_json()["duration_minutes"] == 50  # unchanged when not given

    cancelled = _session(mail_app, therapist, client, now + timedelta(days=2))
    api.post(f"/api/v1/sessions/{cancelled.id}/cancel", headers=auth)
    ended = _session(mail_app, therapist, client, now - timedelta(hours=1))
    with mail_app.app_context():
        e = db.session.get(TherapySession, ended.id)
        assert e is not None
        e.status, e.started_at, e.ended_at = "ended", now, now
        db.session.commit()
    for sid in (cancelled.id, ended.id):
        r = api.post(
            f"/api/v1/sessions/{sid}/reschedule",
            json={"scheduled_start": later},
            headers=auth,
        )
        assert r.status_code == 409
        assert r.get_json()["error"]["code"] == "invalid_state"


def test_the_dashboard_reschedules_and_both_get_the_new_time(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    therapist, client = _people(mail_app, therapist="Europe/Berlin")
    now = _now()
    row = _session(mail_app, therapist, client, now + timedelta(days=2))
    web = mail_app.test_client()
    r = web.post("/login", data={"email": therapist.email, "password": PASSWORD})
    assert r.status_code == 302
    page = web.get("/therapist").get_data(as_text=True)
    assert 'data-testid="reschedule"' in page
    assert f'action="/sessions/{row.id}/reschedule"' in page
    r = web.post(
        f"/sessions/{row.id}/reschedule",
        data={"scheduled_start": "2031-03-04T09:30", "duration_minutes": "60"},
    )
    assert r.status_code == 302
    assert "Session moved" in web.get("/therapist").get_data(as_text=True)
    with mail_app.app_context():
        s = db.session.get(TherapySession, row.id)
        assert s is not None
        assert s.scheduled_start == datetime(2031, 3, 4, 8, 30, tzinfo=UTC)  # CET
        assert s.duration_minutes == 60 and s.calendar_sequence == 1
    assert mailer.drain(mail_app).sent == 2
    got = smtp_server.wait_for(2)
    assert {m.to for m in got} == {therapist.email, client.email}
    for msg in got:
        _neutral(msg)
        assert int(_event(msg)["SEQUENCE"]) == 1
        assert _event(msg).decoded("DTSTART") == datetime(2031, 3, 4, 8, 30, tzinfo=UTC)
    # the web cancel sends the CANCEL too
    r = web.post(f"/sessions/{row.id}/cancel")
    assert r.status_code == 302
    assert mailer.drain(mail_app).sent == 2
    got = smtp_server.wait_for(4)
    for msg in got[2:]:
        assert str(_cal(msg)["METHOD"]) == "CANCEL"
        assert int(_event(msg)["SEQUENCE"]) == 2


def test_a_run_waits_for_a_claim_in_progress_and_then_skips_it(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    """Deterministic overlap: one run has claimed a session but not committed yet;
    the other run's claim waits for it, then finds the session reminded."""
    therapist, client = _people(mail_app)
    row = _session(mail_app, therapist, client, _now() + timedelta(hours=1))
    results: list[reminder_service.Queued] = []

    def other_run() -> None:
        with mail_app.app_context():
            results.append(
                reminder_service.queue_due(
                    db.session(), reminders.reminder_mail, hours_before=24
                )
            )
            db.session.remove()

    with mail_app.app_context():
        tx = db.session()
        assert reminder_service._claim(tx, row.id, _now())
        thread = threading.Thread(target=other_run)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive()  # waiting for the first run's transaction
        tx.commit()
        db.session.remove()
    thread.join(30)
    assert results == [reminder_service.Queued(0, 0)]


def test_the_window_is_the_next_reminder_hours_and_not_the_past(
    mail_app: Flask,
) -> None:
    therapist, client = _people(mail_app)
    now = _now()
    inside = _session(mail_app, therapist, client, now + timedelta(hours=6))
    edge = _session(mail_app, therapist, client, now + timedelta(hours=24))
    outside = _session(
        mail_app, therapist, client, now + timedelta(hours=24, minutes=1)
    )
    _session(mail_app, therapist, client, now)  # starts now: too late to remind
    with mail_app.app_context():
        assert reminder_service.due(db.session(), 24, now) == [inside.id, edge.id]
        assert reminder_service.due(db.session(), 6, now) == [inside.id]
        later = now + timedelta(minutes=2)
        assert outside.id in reminder_service.due(db.session(), 24, later)
        db.session.remove()


def test_a_session_further_ahead_is_reminded_when_its_time_comes(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    therapist, client = _people(mail_app)
    row = _session(mail_app, therapist, client, _now() + timedelta(hours=30))
    assert _send(mail_app).startswith("queued 0 reminders for 0 sessions")
    with time_machine.travel(timedelta(hours=7)):
        assert _send(mail_app).startswith("queued 2 reminders for 1 sessions; sent 2")
        assert _send(mail_app).startswith("queued 0 reminders")
    with time_machine.travel(timedelta(hours=31)):  # it has begun: nothing more
        assert _send(mail_app).startswith("queued 0 reminders")
    got = smtp_server.wait_for(2)
    assert len(got) == 2
    assert {str(_event(m)["UID"]) for m in got} == {f"{row.id}@clinic.example"}


def test_a_session_whose_mail_fails_to_compose_is_tried_again_and_others_go(
    mail_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    therapist, client = _people(mail_app)
    now = _now()
    bad = _session(mail_app, therapist, client, now + timedelta(hours=1))
    good = _session(mail_app, therapist, client, now + timedelta(hours=2))

    def broken(session: TherapySession, user: User) -> Any:
        if session.id == bad.id:
            raise RuntimeError("template missing")
        return reminders.reminder_mail(session, user)

    with mail_app.app_context():
        first = reminder_service.queue_due(db.session(), broken, hours_before=24)
        assert first == reminder_service.Queued(mails=2, sessions=1, failed=1)
        assert f"the reminders of session {bad.id} could not be queued" in caplog.text
        assert db.session.get(TherapySession, bad.id).reminded_at is None  # type: ignore[union-attr]
        assert db.session.get(TherapySession, good.id).reminded_at is not None  # type: ignore[union-attr]
        again = reminder_service.queue_due(
            db.session(), reminders.reminder_mail, hours_before=24
        )
        assert again == reminder_service.Queued(mails=2, sessions=1)
        assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 4
        db.session.remove()
