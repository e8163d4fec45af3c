"""Invitations: an administrator invites anyone, a therapist a client into their own
caseload; the invited person chooses their own password from the link in the mail.

Mail goes to a real SMTP server in the test process (``smtp_server``); the link is
read from the mail that arrived, as the invited person would.
"""

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from teletherapy import mailer
from teletherapy.extensions import db
from teletherapy.models import (
    AuditEvent,
    CaseloadAssignment,
    Invitation,
    OutgoingMail,
    User,
)
from teletherapy.services import password_policy

from .helpers import PASSWORD
from .smtp import free_port

LINK = re.compile(r"https://clinic\.example/invite/([A-Za-z0-9_-]+)")
NEW_PASSWORD = "violet kettle under seven bridges"


def _login(web, user, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return web.post("/login", data={"email": user.email, "password": password})


def _link_to(app, smtp_server, address: str, count: int = 1) -> str:  # type: ignore[no-untyped-def]
    """Deliver the queued mail and return the path of the newest invitation to address."""
    mailer.drain(app)
    mails = smtp_server.to(address)
    assert len(mails) == count, [m.subject for m in mails]
    mail = mails[-1]
    match = LINK.search(mail.text)
    assert match, mail.text
    assert match.group(0) in mail.html
    return "/invite/" + match.group(1)


def _invitation(app, address: str) -> Invitation:  # type: ignore[no-untyped-def]
    with app.app_context():
        row = db.session.scalars(
            select(Invitation)
            .where(Invitation.email == address)
            .order_by(Invitation.created_at.desc())
        ).first()
        assert row is not None
        db.session.expunge(row)
        return row


def _user(app, address: str) -> User | None:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == address))


def _accept(web, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):  # type: ignore[no-untyped-def]
    return web.post(
        link,
        data={
            "password_new": password,
            "password_confirm": password if confirm is None else confirm,
        },
    )


def _gone(response, why: str = "use the link in the most recent mail") -> None:  # type: ignore[no-untyped-def]
    body = response.get_data(as_text=True)
    assert response.status_code == 410, body
    assert "This link no longer works" in body
    assert why in body
    assert "<form" not in body.split("<main", 1)[1]
    assert "password-new" not in body


@pytest.fixture
def admin(make_user):  # type: ignore[no-untyped-def]
    return make_user("admin", name="Alex Admin")


@pytest.fixture
def therapist(make_user):  # type: ignore[no-untyped-def]
    return make_user("therapist", name="Dana Reyes")


@pytest.fixture
def admin_web(mail_app, admin):  # type: ignore[no-untyped-def]
    web = mail_app.test_client()
    assert _login(web, admin).status_code == 302
    return web


def _admin_invites(web, address: str, role: str = "client", therapist_id: str = ""):  # type: ignore[no-untyped-def]
    return web.post(
        "/admin/invitations",
        data={
            "display_name": "Sam Newcomer",
            "email": address,
            "role": role,
            "therapist_id": therapist_id,
        },
    )


def test_invited_client_chooses_a_password_and_is_signed_in(  # type: ignore[no-untyped-def]
    mail_app, smtp_server, admin_web, therapist
):
    r = _admin_invites(admin_web, "sam@example.org", therapist_id=therapist.id)
    assert r.status_code == 302
    page = admin_web.get("/admin/").get_data(as_text=True)
    assert "Invitation sent to sam@example.org" in page
    assert "Initial password" not in page
    link = _link_to(mail_app, smtp_server, "sam@example.org")
    mail = smtp_server.to("sam@example.org")[0]
    assert "invited" in mail.subject
    for body in (mail.text, mail.html):
        assert "Alex Admin" in body and "Sam Newcomer" in body
        assert "UTC" in body  # when the link expires

    web = mail_app.test_client()
    r = web.get(link)
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert r.headers["Referrer-Policy"] == "no-referrer"
    for hook in ("password-new", "password-confirm", "password-submit"):
        assert f'data-testid="{hook}"' in body
    assert "Choose a password</label>" in body
    assert "Type the same password again</label>" in body
    assert password_policy.RULE in body

    r = _accept(web, link)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert web.get("/client").status_code == 200  # signed in, as a client
    user = _user(mail_app, "sam@example.org")
    assert user is not None
    assert (user.role, user.display_name) == ("client", "Sam Newcomer")
    with mail_app.app_context():
        pairs = db.session.scalars(select(CaseloadAssignment)).all()
        assert [(p.therapist_id, p.client_id) for p in pairs] == [
            (therapist.id, user.id)
        ]
        row = db.session.scalar(select(Invitation))
        assert row.accepted_at is not None and row.user_id == user.id
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert {"invitation.send", "invitation.accept", "user.create"} <= set(actions)

    # later: signs in with the password they chose
    other = mail_app.test_client()
    assert _login(other, user, NEW_PASSWORD).status_code == 302
    # the link works once
    _gone(mail_app.test_client().get(link), "has been used already")
    _gone(
        _accept(mail_app.test_client(), link, "another long pass phrase here"),
        "has been used already",
    )
    assert "sam@example.org" not in mail_app.test_client().get(link).get_data(
        as_text=True
    )
    page = admin_web.get("/admin/").get_data(as_text=True)
    assert 'data-state="accepted"' in page


def test_weak_password_is_refused_with_the_reason(  # type: ignore[no-untyped-def]
    mail_app, smtp_server, admin_web
):
    _admin_invites(admin_web, "weak@example.org")
    link = _link_to(mail_app, smtp_server, "weak@example.org")
    web = mail_app.test_client()
    r = _accept(web, link, "passwordpassword")
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "too easy to guess" in body
    assert _user(mail_app, "weak@example.org") is None
    r = _accept(web, link, "short")
    assert r.status_code == 422 and "at least 12 characters" in r.get_data(as_text=True)
    assert _user(mail_app, "weak@example.org") is None
    assert web.get(link).status_code == 200  # the link still works


def test_mismatching_confirmation_is_refused(mail_app, smtp_server, admin_web):  # type: ignore[no-untyped-def]
    _admin_invites(admin_web, "typo@example.org")
    link = _link_to(mail_app, smtp_server, "typo@example.org")
    r = _accept(mail_app.test_client(), link, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert r.status_code == 422
    assert "The two passwords are not the same." in r.get_data(as_text=True)
    assert _user(mail_app, "typo@example.org") is None


def test_revoked_link_is_gone(mail_app, smtp_server, admin_web):  # type: ignore[no-untyped-def]
    _admin_invites(admin_web, "revoke@example.org")
    link = _link_to(mail_app, smtp_server, "revoke@example.org")
    row = _invitation(mail_app, "revoke@example.org")
    r = admin_web.post(f"/invitations/{row.id}/revoke")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    _gone(mail_app.test_client().get(link), "was withdrawn")
    assert _invitation(mail_app, "revoke@example.org").revoked_at is not None
    page = admin_web.get("/admin/").get_data(as_text=True)
    assert 'data-state="revoked"' in page


def test_expired_link_is_gone_and_resend_makes_a_new_one(  # type: ignore[no-untyped-def]
    mail_app, smtp_server, admin_web
):
    _admin_invites(admin_web, "late@example.org")
    old = _link_to(mail_app, smtp_server, "late@example.org")
    with mail_app.app_context():
        row = db.session.scalar(select(Invitation))
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    _gone(mail_app.test_client().get(old), "has expired")
    page = admin_web.get("/admin/").get_data(as_text=True)
    assert 'data-state="expired"' in page and "Re-send" in page

    row = _invitation(mail_app, "late@example.org")
    assert admin_web.post(f"/invitations/{row.id}/resend").status_code == 302
    new = _link_to(mail_app, smtp_server, "late@example.org", count=2)
    assert new != old
    _gone(mail_app.test_client().get(old))
    assert _invitation(mail_app, "late@example.org").sent_count == 2
    web = mail_app.test_client()
    assert web.get(new).status_code == 200
    assert _accept(web, new).status_code == 302
    assert _user(mail_app, "late@example.org") is not None


def test_resend_of_a_pending_invitation_stops_the_old_link(  # type: ignore[no-untyped-def]
    mail_app, smtp_server, admin_web
):
    _admin_invites(admin_web, "again@example.org")
    old = _link_to(mail_app, smtp_server, "again@example.org")
    row = _invitation(mail_app, "again@example.org")
    admin_web.post(f"/invitations/{row.id}/resend")
    new = _link_to(mail_app, smtp_server, "again@example.org", count=2)
    _gone(mail_app.test_client().get(old))
    assert mail_app.test_client().get(new).status_code == 200
    with mail_app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.startswith("invitation"))
        ).all()
    assert sorted(actions) == ["invitation.resend", "invitation.send"]


def test_inviting_again_replaces_the_pending_invitation(  # type: ignore[no-untyped-def]
    mail_app, smtp_server, admin_web
):
    _admin_invites(admin_web, "twice@example.org")
    old = _link_to(mail_app, smtp_server, "twice@example.org")
    _admin_invites(admin_web, "twice@example.org")
    new = _link_to(mail_app, smtp_server, "twice@example.org", count=2)
    _gone(mail_app.test_client().get(old))
    assert mail_app.test_client().get(new).status_code == 200


def test_time_passing_expires_the_link(mail_app, smtp_server, admin_web):  # type: ignore[no-untyped-def]
    import time_machine

    _admin_invites(admin_web, "clock@example.org")
    link = _link_to(mail_app, smtp_server, "clock@example.org")
    ttl = mail_app.config["INVITATION_TTL_HOURS"]
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=ttl - 1)):
        assert mail_app.test_client().get(link).status_code == 200
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=ttl, minutes=1)):
        _gone(mail_app.test_client().get(link), "has expired")


def test_unknown_token_is_gone(mail_app):  # type: ignore[no-untyped-def]
    _gone(mail_app.test_client().get("/invite/not-a-real-token"))
    _gone(mail_app.test_client().get("/invite/" + "x" * 500))


# --- therapists ---------------------------------------------------------------


def test_therapist_invites_a_client_from_the_dashboard(  # type: ignore[no-untyped-def]
    mail_app, smtp_server, therapist, make_user
):
    web = mail_app.test_client()
    _login(web, therapist)
    r = web.post(
        "/invitations", data={"display_name": "Kim Client", "email": "kim@example.org"}
    )
    assert r.status_code == 302
    page = web.get("/therapist").get_data(as_text=True)
    assert "Invite a client" in page
    assert "Invitation sent to kim@example.org" in page
    assert "kim@example.org" in page and 'data-state="pending"' in page
    link = _link_to(mail_app, smtp_server, "kim@example.org")
    assert "Dana Reyes" in smtp_server.to("kim@example.org")[0].text

    # another therapist may not revoke or re-send it (404), nor invite the address
    other = mail_app.test_client()
    _login(other, make_user("therapist"))
    row = _invitation(mail_app, "kim@example.org")
    other.post(f"/invitations/{row.id}/revoke")
    other.post(f"/invitations/{row.id}/resend")
    assert _invitation(mail_app, "kim@example.org").revoked_at is None
    assert _invitation(mail_app, "kim@example.org").sent_count == 1
    other.post("/invitations", data={"display_name": "Kim", "email": "kim@example.org"})
    assert "Someone else has invited" in other.get("/therapist").get_data(as_text=True)
    assert mail_app.test_client().get(link).status_code == 200

    client_web = mail_app.test_client()
    assert _accept(client_web, link).status_code == 302
    kim = _user(mail_app, "kim@example.org")
    page = web.get("/therapist").get_data(as_text=True)
    assert "Kim Client" in page  # in the caseload, schedulable
    with mail_app.app_context():
        pair = db.session.scalar(select(CaseloadAssignment))
        assert (pair.therapist_id, pair.client_id) == (therapist.id, kim.id)


# --- API ------------------------------------------------------------------------


def _api_invite(client, headers, **body):  # type: ignore[no-untyped-def]
    payload = {
        "role": "client",
        "email": "api@example.org",
        "display_name": "Api Person",
    }
    return client.post("/api/v1/invitations", json=payload | body, headers=headers)


def test_api_admin_invites_any_role(mail_app, smtp_server, admin, token_for):  # type: ignore[no-untyped-def]
    client = mail_app.test_client()
    headers = token_for(admin)
    for role in ("therapist", "client", "researcher", "admin"):
        r = _api_invite(client, headers, role=role, email=f"{role}@example.org")
        assert r.status_code == 201, r.get_json()
        out = r.get_json()
        assert set(out) == {"id", "email", "role", "expires_at"}
        assert out["role"] == role and out["email"] == f"{role}@example.org"
        assert out["expires_at"].endswith("Z")
    mailer.drain(mail_app)
    assert len(smtp_server.messages) == 4


def test_api_therapist_invites_clients_into_own_caseload(  # type: ignore[no-untyped-def]
    mail_app, smtp_server, therapist, make_user, token_for
):
    client = mail_app.test_client()
    headers = token_for(therapist)
    r = _api_invite(client, headers, role="therapist")
    assert r.status_code == 403
    other = make_user("therapist")
    r = _api_invite(client, headers, therapist_id=other.id)
    assert r.status_code == 403
    r = _api_invite(client, headers)
    assert r.status_code == 201
    link = _link_to(mail_app, smtp_server, "api@example.org")
    assert _accept(mail_app.test_client(), link).status_code == 302
    new = _user(mail_app, "api@example.org")
    with mail_app.app_context():
        pair = db.session.scalar(select(CaseloadAssignment))
        assert (pair.therapist_id, pair.client_id) == (therapist.id, new.id)


def test_api_admin_invites_a_client_into_a_caseload(  # type: ignore[no-untyped-def]
    mail_app, smtp_server, admin, therapist, make_user, token_for
):
    client = mail_app.test_client()
    headers = token_for(admin)
    r = _api_invite(client, headers, therapist_id=make_user("client").id)
    assert r.status_code == 422 and "therapist_id" in r.get_json()["error"]["details"]
    r = _api_invite(client, headers, role="researcher", therapist_id=therapist.id)
    assert r.status_code == 422
    assert _api_invite(client, headers, therapist_id=therapist.id).status_code == 201
    link = _link_to(mail_app, smtp_server, "api@example.org")
    _accept(mail_app.test_client(), link)
    new = _user(mail_app, "api@example.org")
    with mail_app.app_context():
        pair = db.session.scalar(select(CaseloadAssignment))
        assert (pair.therapist_id, pair.client_id) == (therapist.id, new.id)


@pytest.mark.parametrize("role", ["client", "researcher"])
def test_api_others_may_not_invite(mail_app, make_user, token_for, role):  # type: ignore[no-untyped-def]
    client = mail_app.test_client()
    r = _api_invite(client, token_for(make_user(role)))
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "forbidden"
    assert client.post("/api/v1/invitations", json={}).status_code == 401


def test_api_refusals(mail_app, admin, token_for):  # type: ignore[no-untyped-def]
    client = mail_app.test_client()
    headers = token_for(admin)
    r = _api_invite(client, headers, email=admin.email)
    assert r.status_code == 409
    assert r.get_json()["error"]["details"] == {"email": "already registered"}
    r = _api_invite(client, headers, password="chosen by the admin")
    assert r.status_code == 422
    assert r.get_json()["error"]["details"] == {"password": "unknown field"}
    r = _api_invite(client, headers, email="not an address")
    assert r.status_code == 422 and "email" in r.get_json()["error"]["details"]
    r = _api_invite(client, headers, role="superuser")
    assert r.status_code == 422 and "role" in r.get_json()["error"]["details"]
    r = _api_invite(client, headers, display_name="")
    assert r.status_code == 422 and "display_name" in r.get_json()["error"]["details"]
    r = client.post("/api/v1/invitations", data="[]", headers=headers)
    assert r.status_code == 400
    # every bad field in one answer, the address's syntax included
    r = _api_invite(client, headers, email="not an address", role="wizard", extra=1)
    assert r.status_code == 422
    assert set(r.get_json()["error"]["details"]) == {"email", "role", "extra"}
    with mail_app.app_context():
        assert db.session.scalars(select(Invitation)).all() == []
        assert db.session.scalars(select(OutgoingMail)).all() == []


def test_api_delete(mail_app, smtp_server, admin, therapist, make_user, token_for):  # type: ignore[no-untyped-def]
    client = mail_app.test_client()
    mine = token_for(therapist)
    r = _api_invite(client, mine)
    invitation_id = r.get_json()["id"]
    link = _link_to(mail_app, smtp_server, "api@example.org")
    other = token_for(make_user("therapist"))
    r = client.delete(f"/api/v1/invitations/{invitation_id}", headers=other)
    assert r.status_code == 404
    r = client.delete("/api/v1/invitations/no-such-id", headers=mine)
    assert r.status_code == 404
    r = client.delete(
        f"/api/v1/invitations/{invitation_id}", headers=token_for(make_user("client"))
    )
    assert r.status_code == 403
    assert mail_app.test_client().get(link).status_code == 200
    r = client.delete(f"/api/v1/invitations/{invitation_id}", headers=mine)
    assert r.status_code == 204 and r.data == b""
    _gone(mail_app.test_client().get(link), "was withdrawn")
    # the admin may delete any invitation
    r = _api_invite(client, mine, email="second@example.org")
    r = client.delete(
        f"/api/v1/invitations/{r.get_json()['id']}", headers=token_for(admin)
    )
    assert r.status_code == 204


def test_api_document_lists_the_invitation_endpoints(mail_app):  # type: ignore[no-untyped-def]
    doc = mail_app.test_client().get("/api/v1/openapi.json").get_json()
    assert "post" in doc["paths"]["/invitations"]
    assert "delete" in doc["paths"]["/invitations/{invitation_id}"]
    schema = doc["components"]["schemas"]["InvitationOut"]
    assert "token" not in schema["properties"]


# --- the token stays secret ------------------------------------------------------


def test_the_token_is_only_in_the_mail(  # type: ignore[no-untyped-def]
    mail_app, smtp_server, admin, token_for, caplog
):
    caplog.set_level(logging.DEBUG)
    client = mail_app.test_client()
    headers = token_for(admin)
    responses = [_api_invite(client, headers, email="secret@example.org")]
    invitation_id = responses[0].get_json()["id"]
    web = mail_app.test_client()
    _login(web, admin)
    responses.append(web.post(f"/invitations/{invitation_id}/resend"))
    responses.append(web.get("/admin/", follow_redirects=True))
    mailer.drain(mail_app)
    tokens = [
        LINK.search(m.text).group(1) for m in smtp_server.to("secret@example.org")
    ]
    assert len(tokens) == 2
    first, second = tokens
    responses.append(mail_app.test_client().get(f"/invite/{first}"))  # 410
    responses.append(_accept(mail_app.test_client(), f"/invite/{second}", "weak"))
    responses.append(_accept(mail_app.test_client(), f"/invite/{second}"))
    responses.append(mail_app.test_client().get(f"/invite/{second}"))  # 410
    assert [r.status_code for r in responses[3:]] == [410, 422, 302, 410]

    # everything logged but the test's own SMTP server (aiosmtpd's mail.log)
    app_log = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")
    )
    assert "secret@example.org" in app_log  # the sender's log line was captured
    for token in tokens:
        for r in responses:
            assert token not in r.get_data(as_text=True)
            assert token not in str(r.headers)
        assert token not in app_log
    with mail_app.app_context():
        rows = db.session.scalars(select(AuditEvent)).all()
        dumped = " ".join(f"{r.action} {r.target_id} {r.details} {r.ip}" for r in rows)
        row = db.session.get(Invitation, invitation_id)
        mails = db.session.scalars(select(OutgoingMail)).all()
    for token in tokens:
        assert token not in dumped
    assert row.token_hash == hashlib.sha256(second.encode()).hexdigest()
    assert all(first not in str(v) and second not in str(v) for v in vars(row).values())
    # sent mail keeps no body (the link is not in the database in clear)
    assert all(m.text_body is None and m.html_body is None for m in mails)


# --- mail that cannot be sent ----------------------------------------------------


def test_smtp_down_still_invites_and_the_admin_sees_the_failure(  # type: ignore[no-untyped-def]
    make_app, admin, token_for
):
    app = make_app(
        SMTP_URL=f"smtp://127.0.0.1:{free_port()}",
        PUBLIC_URL="https://clinic.example",
        MAIL_MAX_ATTEMPTS=2,
        MAIL_BACKOFF_SECONDS=[0],
    )
    client = app.test_client()
    r = _api_invite(client, token_for(admin), email="offline@example.org")
    assert r.status_code == 201
    web = app.test_client()
    _login(web, admin)
    r = _admin_invites(web, "offline2@example.org")
    assert "Invitation sent to offline2@example.org" in web.get("/admin/").get_data(
        as_text=True
    )
    first = mailer.drain(app)
    assert (first.sent, first.retried, first.failed) == (0, 2, 0)
    page = web.get("/admin/").get_data(as_text=True)
    section = page.split("Mail that could not be sent", 1)[1]
    assert "offline@example.org" in section and "retrying" in section
    second = mailer.drain(app)
    assert (second.sent, second.retried, second.failed) == (0, 0, 2)
    page = web.get("/admin/").get_data(as_text=True)
    section = page.split("Mail that could not be sent", 1)[1]
    for address in ("offline@example.org", "offline2@example.org"):
        assert address in section
    assert "failed" in section and "invitation" in section
    assert "ConnectionRefusedError" in section or "Errno" in section
    assert "/invite/" not in page  # never a body, never a link
    with app.app_context():
        assert len(db.session.scalars(select(Invitation)).all()) == 2


# --- command line ---------------------------------------------------------------


def test_cli_invite_prints_the_link_and_queues_the_mail(  # type: ignore[no-untyped-def]
    mail_app, smtp_server, therapist
):
    runner = mail_app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "invite",
            "--role",
            "client",
            "--email",
            "cli@example.org",
            "--name",
            "Cli Person",
            "--therapist",
            therapist.email,
            "--no-send",
        ]
    )
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert LINK.fullmatch(last)
    assert smtp_server.messages == []  # queued only
    link = _link_to(mail_app, smtp_server, "cli@example.org")
    assert last == "https://clinic.example" + link
    assert _accept(mail_app.test_client(), link).status_code == 302
    new = _user(mail_app, "cli@example.org")
    with mail_app.app_context():
        pair = db.session.scalar(select(CaseloadAssignment))
        assert (pair.therapist_id, pair.client_id) == (therapist.id, new.id)
        row = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "invitation.send")
        )
        assert row.ip == "cli" and row.actor_id is None

    again = runner.invoke(
        args=[
            "users",
            "invite",
            "--role",
            "admin",
            "--email",
            "cli@example.org",
            "--name",
            "X",
        ]
    )
    assert again.exit_code != 0 and "exists" in again.output


def test_cli_invite_sends_the_mail_itself(mail_app, smtp_server):  # type: ignore[no-untyped-def]
    """A command has no background sender: it tries once to send what is queued."""
    result = mail_app.test_cli_runner().invoke(
        args=[
            *("users", "invite", "--role", "researcher"),
            *("--email", "r@example.org", "--name", "Riley Reader"),
        ]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "mail sent: 1" in lines
    assert len(smtp_server.to("r@example.org")) == 1  # before any drain of the test
    assert lines[-1] in smtp_server.to("r@example.org")[0].text


def test_cli_invite_with_the_mail_server_down(make_app):  # type: ignore[no-untyped-def]
    app = make_app(
        SMTP_URL=f"smtp://127.0.0.1:{free_port()}", PUBLIC_URL="https://clinic.example"
    )
    result = app.test_cli_runner().invoke(
        args=[
            *("users", "invite", "--role", "client"),
            *("--email", "d@example.org", "--name", "Dee Down"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "stays queued" in result.output
    assert LINK.fullmatch(result.output.strip().splitlines()[-1])
    with app.app_context():
        row = db.session.scalar(select(OutgoingMail))
        assert (row.status, row.attempts, row.kind) == ("queued", 1, "invitation")


def test_an_accepted_invitation_cannot_be_revoked_or_resent(  # type: ignore[no-untyped-def]
    mail_app, smtp_server, admin, token_for
):
    client = mail_app.test_client()
    headers = token_for(admin)
    invitation_id = _api_invite(client, headers).get_json()["id"]
    link = _link_to(mail_app, smtp_server, "api@example.org")
    assert _accept(mail_app.test_client(), link).status_code == 302
    r = client.delete(f"/api/v1/invitations/{invitation_id}", headers=headers)
    assert r.status_code == 409
    web = mail_app.test_client()
    _login(web, admin)
    web.post(f"/invitations/{invitation_id}/resend")
    assert "cannot be re-sent" in web.get("/admin/").get_data(as_text=True)
    mailer.drain(mail_app)
    assert len(smtp_server.to("api@example.org")) == 1
    assert _invitation(mail_app, "api@example.org").sent_count == 1
