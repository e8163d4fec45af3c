"""The app's side of mail: compose from templates, send in the background.

Services queue mails (services/mail.py) in the transaction of the change they
report; views and commands compose them here from ``templates/mail/<name>.txt``
and ``.html`` and call :func:`kick` after the commit. The serving process then
sends from a background task (a greenlet under gevent) that sleeps until the
next retry is due and ends when the queue is empty; ``teletherapy mail send``
does one round from a timer or by hand. Links are absolute, under
``PUBLIC_URL`` (in development without it, the request's own address).
"""

import logging
import threading
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, render_template, request
from flask.globals import app_ctx

from .extensions import db
from .services import mail

log = logging.getLogger(__name__)

# Longest sleep of the background sender between rounds while mail is queued.
MAX_SLEEP = 60.0

_lock = threading.Lock()
_running: "weakref.WeakSet[Flask]" = weakref.WeakSet()
_again: "weakref.WeakSet[Flask]" = weakref.WeakSet()


def public_url(path: str) -> str:
    """An absolute link to ``path`` for a mail or calendar file: PUBLIC_URL, else
    (development) the address of the current request, else http://HOST:PORT."""
    base = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if not base and has_request_context():
        base = request.host_url.rstrip("/")
    if not base:
        import os

        base = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
    return base + (path if path.startswith("/") else "/" + path)


def compose(
    kind: str,
    to: str,
    subject: str,
    template: str,
    *,
    ics: str | None = None,
    ics_method: str | None = None,
    **context: Any,
) -> mail.Outgoing:
    """A mail from ``templates/mail/<template>.txt`` and ``.html`` (no clinical content)."""
    context.setdefault("subject", subject)
    return mail.Outgoing(
        kind=kind,
        to=to,
        subject=subject,
        text=render_template(f"mail/{template}.txt", **context),
        html=render_template(f"mail/{template}.html", **context),
        ics=ics,
        ics_method=ics_method,
    )


def transport(app: Flask) -> mail.Transport:
    return mail.transport_for(
        str(app.config.get("SMTP_URL") or ""), Path(app.instance_path)
    )


def drain(app: Flask | None = None) -> mail.Report:
    """One delivery round now, in this thread (tests, `teletherapy mail send`)."""
    app = app or app_ctx.app
    with app.app_context():
        try:
            return mail.deliver_due(
                db.session(),
                transport(app),
                str(app.config["MAIL_FROM"]),
                int(app.config["MAIL_MAX_ATTEMPTS"]),
                backoff=[float(x) for x in app.config["MAIL_BACKOFF_SECONDS"]],
            )
        finally:
            db.session.remove()


def kick(app: Flask | None = None) -> None:
    """Start the background sender of this process unless it is running (then it
    makes one more round). Call after committing a change that queued mail."""
    app = app or app_ctx.app
    if not app.config.get("MAIL_IN_BACKGROUND"):
        return
    with _lock:
        if app in _running:
            _again.add(app)
            return
        _running.add(app)
    import signaling

    signaling.socketio.start_background_task(_run, app)


def _run(app: Flask) -> None:
    import signaling

    try:
        while True:
            try:
                drain(app)
                with app.app_context():
                    due = mail.next_due(db.session())
                    db.session.remove()
            except Exception:  # the sender outlives a broken round; logged
                log.exception("the mail sender's round failed; retrying")
                due = datetime.now(UTC)
            with _lock:
                if due is None and app not in _again:
                    _running.discard(app)
                    return
                _again.discard(app)
            wait = 0.0 if due is None else (due - datetime.now(UTC)).total_seconds()
            signaling.socketio.sleep(min(max(wait, 0.5), MAX_SLEEP))
    except BaseException:
        with _lock:
            _running.discard(app)
        raise
