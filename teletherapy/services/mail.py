"""Outgoing mail: a queue table, and a sender that retries with backoff.

A mail is queued in the same transaction as the change it reports (an
invitation, a reset, a reminder), so it is never lost and never sent for a
change that was rolled back. :func:`deliver_due` sends what is due through a
:class:`Transport`: SMTP (``TELETHERAPY_SMTP_URL``) or, in development, ``.eml``
files under ``instance/mail/``. A failed attempt waits longer each time
(:data:`BACKOFF`); after ``max_attempts`` the mail is marked failed, logged, and
listed on the admin page. Once sent or failed for good its bodies are cleared,
so a link secret does not stay in the database in clear.

Mails carry no clinical content: no modality, no ratings, no chat.
"""

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..models import OutgoingMail

log = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, 3rd … failed attempt (the last repeats).
BACKOFF = (60, 300, 1800, 7200)
# How long a sender holds a mail it is sending (another process skips it).
CLAIM = timedelta(minutes=2)
SMTP_TIMEOUT = 20.0


# TELETHERAPY_SMTP_URL's schemes: connection security and default port
SCHEMES = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}


class MailError(RuntimeError):
    """The mail could not be handed to the server; the message says why."""


@dataclass(frozen=True)
class Outgoing:
    """A mail to queue: plain text and HTML alternatives, an optional calendar file."""

    kind: str
    to: str
    subject: str
    text: str
    html: str
    ics: str | None = None
    ics_method: str | None = None  # REQUEST or CANCEL


def enqueue(tx: Session, mail: Outgoing) -> OutgoingMail:
    """Queue a mail (uncommitted: it is sent only if the caller's change commits)."""
    row = OutgoingMail(
        kind=mail.kind,
        to_addr=mail.to,
        subject=mail.subject[:200],
        text_body=mail.text,
        html_body=mail.html,
        ics=mail.ics,
        ics_method=mail.ics_method,
        status="queued",
        attempts=0,
        next_attempt_at=datetime.now(UTC),
    )
    tx.add(row)
    return row


def build_message(row: OutgoingMail, sender: str) -> EmailMessage:
    """The MIME message: multipart/alternative text + HTML, and the calendar file
    both inline (text/calendar, which calendar clients act on) and attached."""
    msg = EmailMessage()
    msg["Subject"] = row.subject
    msg["From"] = sender
    msg["To"] = row.to_addr
    msg["Message-ID"] = make_msgid(idstring=row.id)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row.text_body or "")
    msg.add_alternative(row.html_body or "", subtype="html")
    if row.ics:
        method = row.ics_method or "REQUEST"
        msg.add_alternative(row.ics, subtype="calendar", params={"method": method})
        msg.add_attachment(
            row.ics.encode(),
            maintype="application",
            subtype="ics",
            filename="invite.ics" if method == "REQUEST" else "cancel.ics",
        )
    return msg


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpTransport:
    """SMTP from a URL: ``smtp://`` (plain), ``smtp+starttls://`` or ``smtps://``,
    with ``user:password@`` when the server wants a login. Certificates are
    verified against the system's trust store (``SSL_CERT_FILE`` adds one)."""

    host: str
    port: int
    security: str  # "plain", "starttls" or "tls"
    username: str | None = None
    password: str | None = None
    timeout: float = SMTP_TIMEOUT

    @classmethod
    def from_url(cls, url: str, timeout: float = SMTP_TIMEOUT) -> "SmtpTransport":
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError(
                "TELETHERAPY_SMTP_URL must look like smtp://host:25, "
                "smtp+starttls://user:password@host:587 or smtps://user:password@host:465"
            )
        security, default_port = SCHEMES[parts.scheme]
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        try:
            if self.security == "tls":
                client = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.security == "starttls":
                    client.starttls(context=context)
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            # The message text names the failure; never the password.
            raise MailError(f"{type(exc).__name__}: {exc}"[:300]) from exc


@dataclass(frozen=True)
class FileTransport:
    """Development without SMTP: each mail becomes ``<time>-<id>.eml`` in ``folder``."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        ident = str(message["Message-ID"]).strip("<>").split("@")[0].split(".")[-1]
        path = self.folder / f"{stamp}-{ident}.eml"
        path.write_bytes(bytes(message))
        log.info("mail written to %s", path)


def transport_for(smtp_url: str, instance_dir: Path) -> Transport:
    """SMTP when ``smtp_url`` is set, else .eml files under instance/mail/."""
    if smtp_url:
        return SmtpTransport.from_url(smtp_url)
    return FileTransport(instance_dir / "mail")


@dataclass(frozen=True)
class Report:
    """What one delivery round did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def _due(tx: Session, now: datetime, limit: int) -> Sequence[str]:
    stmt = (
        select(OutgoingMail.id)
        .where(
            OutgoingMail.status == "queued",
            OutgoingMail.next_attempt_at <= now,
            or_(
                OutgoingMail.claimed_until.is_(None),
                OutgoingMail.claimed_until < now,
            ),
        )
        .order_by(OutgoingMail.next_attempt_at)
        .limit(limit)
    )
    return list(tx.scalars(stmt))


def _claim(tx: Session, mail_id: str, now: datetime) -> bool:
    """Hold the mail for this sender; False when another one holds it."""
    result = tx.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.status == "queued",
            or_(
                OutgoingMail.claimed_until.is_(None),
                OutgoingMail.claimed_until < now,
            ),
        )
        .values(claimed_until=now + CLAIM)
    )
    tx.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def deliver_due(
    tx: Session,
    transport: Transport,
    sender: str,
    max_attempts: int,
    now: datetime | None = None,
    limit: int = 100,
    backoff: Sequence[float] = BACKOFF,
) -> Report:
    """Send every queued mail that is due; failures wait (BACKOFF) or fail for good."""
    now = now or datetime.now(UTC)
    sent = retried = failed = 0
    for mail_id in _due(tx, now, limit):
        if not _claim(tx, mail_id, now):
            continue
        row = tx.get(OutgoingMail, mail_id)
        if row is None:  # pragma: no cover - deleted between claim and read
            continue
        row.attempts += 1
        try:
            transport.send(build_message(row, sender))
        except (MailError, OSError) as exc:
            row.last_error = str(exc)[:500]
            if row.attempts >= max_attempts:
                row.status = "failed"
                _clear(row)
                failed += 1
                log.error(
                    "mail %s (%s to %s) failed for good after %d attempts: %s",
                    row.id,
                    row.kind,
                    row.to_addr,
                    row.attempts,
                    row.last_error,
                )
            else:
                wait = backoff[min(row.attempts, len(backoff)) - 1]
                row.next_attempt_at = now + timedelta(seconds=wait)
                retried += 1
                log.warning(
                    "mail %s (%s) attempt %d failed, retrying in %g s: %s",
                    row.id,
                    row.kind,
                    row.attempts,
                    wait,
                    row.last_error,
                )
        else:
            row.status = "sent"
            row.sent_at = datetime.now(UTC)
            row.last_error = None
            _clear(row)
            sent += 1
            log.info(
                "mail %s (%s) sent to %s: %s",
                row.id,
                row.kind,
                row.to_addr,
                row.subject,
            )
        row.claimed_until = None
        tx.commit()
    return Report(sent, retried, failed)


def _clear(row: OutgoingMail) -> None:
    row.text_body = row.html_body = row.ics = None


def next_due(tx: Session) -> datetime | None:
    """When the earliest queued mail is due (None: nothing queued)."""
    return tx.scalar(
        select(OutgoingMail.next_attempt_at)
        .where(OutgoingMail.status == "queued")
        .order_by(OutgoingMail.next_attempt_at)
        .limit(1)
    )


def problems(tx: Session, limit: int = 50) -> list[OutgoingMail]:
    """Mails that failed for good or are waiting after a failed attempt (admin page)."""
    stmt = (
        select(OutgoingMail)
        .where(
            or_(
                OutgoingMail.status == "failed",
                (OutgoingMail.status == "queued") & (OutgoingMail.attempts > 0),
            )
        )
        .order_by(OutgoingMail.created_at.desc())
        .limit(limit)
    )
    return list(tx.scalars(stmt))
