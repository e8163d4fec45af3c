"""Mail through a real SMTP server in this process (aiosmtpd): plain, STARTTLS and
SMTPS with a login; retries with backoff; failures kept and logged; .eml files in
development; sending in the background, outside the request."""

import datetime as dt
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from teletherapy import mailer
from teletherapy.extensions import db
from teletherapy.models import OutgoingMail
from teletherapy.services import mail
from teletherapy.tls import self_signed

from .smtp import free_port, start_smtp


def _queue(app, to: str = "person@example.org", **extra) -> str:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        out = mailer.compose(
            "test", to, "A test mail", "test", name="Pat", link=mailer.public_url("/x")
        )
        row = mail.enqueue(db.session(), out)
        db.session.commit()
        return row.id


def _row(app, mail_id: str) -> OutgoingMail:  # type: ignore[no-untyped-def]
    with app.app_context():
        row = db.session.get(OutgoingMail, mail_id)
        assert row is not None
        db.session.expunge(row)
        return row


def test_a_queued_mail_arrives_as_text_and_html_and_its_body_is_cleared(
    mail_app, smtp_server
) -> None:  # type: ignore[no-untyped-def]
    mail_id = _queue(mail_app)
    report = mailer.drain(mail_app)
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    (got,) = smtp_server.wait_for(1)
    assert got.rcpt_tos == ["person@example.org"]
    assert got.subject == "A test mail"
    assert "Hello Pat" in got.text and "https://clinic.example/x" in got.text
    assert '<a href="https://clinic.example/x">' in got.html
    assert got.message["Auto-Submitted"] == "auto-generated"
    row = _row(mail_app, mail_id)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1
    assert row.text_body is None and row.html_body is None  # no link kept in clear
    assert mailer.drain(mail_app).sent == 0  # sent once only


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """The app's own self-signed pair for "localhost" (teletherapy tls selfsigned)."""
    return self_signed(["localhost"], tmp_path / "pair")


# aiosmtpd cannot tell that an SMTPS connection is TLS and warns about AUTH without it
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_starttls_and_smtps_with_a_login(make_app, tmp_path, monkeypatch, tls) -> None:  # type: ignore[no-untyped-def]
    cert = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))  # trust the test's certificate
    server = start_smtp(tls=tls, cert=cert, credentials=("mailer", "s3cret p@ss"))
    try:
        url = server.url.replace("s3cret p@ss", "s3cret%20p%40ss")
        app = make_app(SMTP_URL=url, PUBLIC_URL="https://clinic.example")
        _queue(app)
        assert mailer.drain(app).sent == 1
        (got,) = server.wait_for(1)
        assert got.subject == "A test mail"
    finally:
        server.stop()


def test_a_wrong_smtp_password_is_retried_then_failed_and_never_logged(
    make_app, tmp_path, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    cert = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    server = start_smtp(tls="starttls", cert=cert, credentials=("mailer", "right-one"))
    try:
        url = server.url.replace("right-one", "wrong-password-xyz")
        app = make_app(SMTP_URL=url, MAIL_MAX_ATTEMPTS=2, MAIL_BACKOFF_SECONDS=[0])
        mail_id = _queue(app)
        with caplog.at_level(logging.INFO):
            first = mailer.drain(app)
            second = mailer.drain(app)
        assert (first.retried, second.failed) == (1, 1)
        row = _row(app, mail_id)
        assert row.status == "failed" and row.attempts == 2
        assert "Authentication" in (row.last_error or "") or "535" in (
            row.last_error or ""
        )
        assert "wrong-password-xyz" not in caplog.text
        assert "wrong-password-xyz" not in (row.last_error or "")
        assert server.messages == []
    finally:
        server.stop()


def test_smtp_down_waits_longer_each_time_then_fails_and_is_logged(
    make_app, caplog
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(
        SMTP_URL=f"smtp://127.0.0.1:{free_port()}",  # nothing listens
        MAIL_MAX_ATTEMPTS=3,
        MAIL_BACKOFF_SECONDS=[60, 300],
    )
    mail_id = _queue(app)
    start = dt.datetime.now(dt.UTC)
    assert mailer.drain(app).retried == 1
    row = _row(app, mail_id)
    assert row.status == "queued" and row.attempts == 1
    assert 55 <= (row.next_attempt_at - start).total_seconds() <= 70
    assert mailer.drain(app).sent == 0  # not due yet: nothing tried
    assert _row(app, mail_id).attempts == 1
    with app.app_context():
        tx = db.session()
        later = start + dt.timedelta(seconds=61)
        r2 = mail.deliver_due(
            tx, mailer.transport(app), "x@example.org", 3, now=later, backoff=[60, 300]
        )
        assert r2.retried == 1
        wait = (tx.get(OutgoingMail, mail_id).next_attempt_at - later).total_seconds()
        assert 295 <= wait <= 305
        with caplog.at_level(logging.ERROR):
            r3 = mail.deliver_due(
                tx,
                mailer.transport(app),
                "x@example.org",
                3,
                now=later + dt.timedelta(seconds=301),
                backoff=[60, 300],
            )
        assert r3.failed == 1
        assert [m.id for m in mail.problems(tx)] == [mail_id]
        db.session.remove()
    assert "failed for good after 3 attempts" in caplog.text
    assert _row(app, mail_id).text_body is None


def test_without_smtp_each_mail_is_an_eml_file_under_instance_mail(
    make_app, caplog
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(SMTP_URL="")
    _queue(app, to="dev@example.org")
    with caplog.at_level(logging.INFO):
        assert mailer.drain(app).sent == 1
    files = sorted((Path(app.instance_path) / "mail").glob("*.eml"))
    assert len(files) == 1
    raw = files[0].read_text()
    assert "To: dev@example.org" in raw and "Subject: A test mail" in raw
    assert "dev@example.org" in caplog.text and "A test mail" in caplog.text


def test_two_senders_never_send_one_mail_twice(mail_app, smtp_server) -> None:  # type: ignore[no-untyped-def]
    ids = [_queue(mail_app, to=f"p{i}@example.org") for i in range(5)]
    with mail_app.app_context():
        now = dt.datetime.now(dt.UTC)
        # Another process holds the first two mails right now.
        for mail_id in ids[:2]:
            assert mail._claim(db.session(), mail_id, now)
        report = mailer.drain(mail_app)
        db.session.remove()
    assert report.sent == 3
    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(3)) == [
        f"p{i}@example.org" for i in range(2, 5)
    ]


def test_the_background_sender_retries_until_the_server_takes_the_mail(
    make_app, smtp_server
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(
        SMTP_URL=smtp_server.url, MAIL_IN_BACKGROUND=True, MAIL_BACKOFF_SECONDS=[0.3]
    )
    smtp_server.refuse = True
    mail_id = _queue(app)
    mailer.kick(app)
    with app.app_context():
        deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
        while dt.datetime.now(dt.UTC) < deadline:
            row = db.session.scalar(
                select(OutgoingMail).where(OutgoingMail.id == mail_id)
            )
            if row is not None and row.attempts >= 1:
                break
            db.session.remove()
        db.session.remove()
    smtp_server.refuse = False
    (got,) = smtp_server.wait_for(1)
    assert got.subject == "A test mail"
    deadline = time.monotonic() + 5  # the sender commits just after the server's 250
    while (row := _row(app, mail_id)).status != "sent" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert row.status == "sent" and row.attempts >= 2


def test_smtp_url_must_name_a_known_scheme() -> None:
    with pytest.raises(ValueError, match="smtp\\+starttls://"):
        mail.SmtpTransport.from_url("http://mail.example")
    t = mail.SmtpTransport.from_url("smtp+starttls://u%40x:p%3Aw@mail.example")
    assert (t.host, t.port, t.security, t.username, t.password) == (
        "mail.example",
        587,
        "starttls",
        "u@x",
        "p:w",
    )
    assert mail.SmtpTransport.from_url("smtps://mail.example").port == 465
    assert mail.SmtpTransport.from_url("smtp://mail.example").port == 25
