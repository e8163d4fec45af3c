"""Two-factor sign-in (TOTP, RFC 6238): enrolment, the code step, replay and
recovery codes, roles that must use it, the administrator's reset."""

import hashlib
import logging
import re
import time
from datetime import UTC, datetime

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from teletherapy.extensions import db
from teletherapy.models import AuditEvent, RecoveryCode, User
from teletherapy.services import two_factor

from .helpers import PASSWORD

# The start of a 30-second step, so a test's few seconds stay inside it
T0 = datetime(2030, 1, 7, 9, 0, 0, tzinfo=UTC)
STEP = 30


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    """The whole test at T0, time stands still until the test shifts it."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _secret_from(page: str) -> str:
    found = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page)
    assert found, page
    return found.group(1).replace(" ", "")


def _codes_from(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>", page)


def _enrol(client, auth, user) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Sign in with the password, enrol; the secret and the recovery codes."""
    auth.login(user)
    secret = _secret_from(client.get("/settings/2fa").get_data(as_text=True))
    r = client.post(
        "/settings/2fa/confirm", data={"code": pyotp.TOTP(secret).now()}
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    codes = _codes_from(r.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _password_step(client, user):  # type: ignore[no-untyped-def]
    r = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/code"), r
    return r


def _code_step(client, code: str):  # type: ignore[no-untyped-def]
    return client.post("/login/code", data={"code": code})


def test_smoke(app, client, auth, make_user, clock) -> None:  # type: ignore[no-untyped-def]
    user = make_user("therapist")
    secret, codes = _enrol(client, auth, user)
    auth.logout()
    clock.shift(2 * STEP)
    _password_step(client, user)
    assert client.get("/").status_code == 302
    r = _code_step(client, pyotp.TOTP(secret).now())
    assert r.status_code == 302, r.get_data(as_text=True)
    assert client.get("/").status_code in (200, 302)
