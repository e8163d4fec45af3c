"""Session reminders and calendar files by mail: `teletherapy reminders send`.

The app's side of services/reminders.py and services/calendar.py: the mails are
composed here from ``templates/mail/session_reminder.*`` and
``session_calendar.*``, each with a calendar file, times in the recipient's own
time zone, the absolute link to the session's page, and nothing clinical (no
modality, no ratings). Scheduling, rescheduling and cancelling pass
:func:`calendar_mails` to the service as its ``notify``; the command queues the
due reminders and sends the queued mail.
"""

import sys
from urllib.parse import urlsplit

import click
from flask import current_app, has_request_context, url_for
from flask.cli import AppGroup
from flask.globals import app_ctx

from . import mailer
from .extensions import db
from .models import TherapySession, User
from .services import calendar, mail
from .services import reminders as reminder_service
from .services.calendar import Method
from .templating import localtime

reminders_cli = AppGroup("reminders", help="Session reminders by mail.")


def join_path(session_id: str) -> str:
    """The session page's path (what the API calls ``join_url``), in or outside a request."""
    if has_request_context():
        return url_for("sessions.join", session_id=session_id)
    root = str(current_app.config.get("APPLICATION_ROOT") or "/")
    adapter = current_app.url_map.bind("localhost", script_name=root)
    return adapter.build("sessions.join", {"session_id": session_id})


def join_url(session: TherapySession) -> str:
    return mailer.public_url(join_path(session.id))


def uid_domain() -> str:
    """The calendar UID's domain: the host of PUBLIC_URL."""
    return urlsplit(mailer.public_url("/")).hostname or "teletherapy.invalid"


def _context(session: TherapySession, user: User) -> dict[str, object]:
    other = session.client if user.id == session.therapist_id else session.therapist
    return {
        "name": user.display_name,
        "other_name": other.display_name,
        "when": localtime(session.scheduled_start, user),
        "duration": session.duration_minutes,
        "link": join_url(session),
    }


def _ics(session: TherapySession, user: User, method: Method) -> str:
    return calendar.ics(
        session,
        method=method,
        join_url=join_url(session),
        uid_domain=uid_domain(),
        recipient=user,
    )


def calendar_mail(session: TherapySession, user: User, method: Method) -> mail.Outgoing:
    """The calendar update for one participant: a new session (SEQUENCE 0), a new
    time (a later SEQUENCE), or the cancellation."""
    if method == "CANCEL":
        change = "cancelled"
    elif session.calendar_sequence:
        change = "moved"
    else:
        change = "scheduled"
    context = _context(session, user)
    subject = {
        "scheduled": "Session booked: {when}",
        "moved": "Session moved to {when}",
        "cancelled": "Session cancelled: {when}",
    }[change].format(when=context["when"])
    return mailer.compose(
        "calendar",
        user.email,
        subject,
        "session_calendar",
        ics=_ics(session, user, method),
        ics_method=method,
        change=change,
        **context,
    )


def calendar_mails(session: TherapySession, method: Method) -> list[mail.Outgoing]:
    """``notify`` for scheduling.schedule, reschedule and cancel: both participants
    (active accounts only)."""
    return [
        calendar_mail(session, user, method)
        for user in reminder_service.recipients(session)
    ]


def reminder_mail(session: TherapySession, user: User) -> mail.Outgoing:
    context = _context(session, user)
    return mailer.compose(
        "reminder",
        user.email,
        f"Reminder: your session on {context['when']}",
        "session_reminder",
        ics=_ics(session, user, "REQUEST"),
        ics_method="REQUEST",
        **context,
    )


@reminders_cli.command("send")
def reminders_send() -> None:
    """Queue the reminders now due (each session once) and send the queued mail."""
    app = app_ctx.app  # the app itself, not its proxy
    try:
        queued = reminder_service.queue_due(
            db.session(),
            reminder_mail,
            hours_before=float(app.config["REMINDER_HOURS_BEFORE"]),
        )
    finally:
        db.session.remove()
    report = mailer.drain(app)
    not_queued = (
        f" ({queued.failed} sessions could not be reminded, see the log)"
        if queued.failed
        else ""
    )
    click.echo(
        f"queued {queued.mails} reminders for {queued.sessions} sessions{not_queued}; "
        f"sent {report.sent}, retrying {report.retried}, failed {report.failed}"
    )
    if report.failed or queued.failed:
        sys.exit(1)
