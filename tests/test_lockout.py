"""No account oracle, no lock-out weapon (docs/security.md, row 23)."""

import statistics
import time
import uuid
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from teletherapy.extensions import db
from teletherapy.models import AuditEvent

from .helpers import PASSWORD, new_user

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"
WRONG = "not the password at all"


def _login(client, email, password, address):  # type: ignore[no-untyped-def]
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _token(client, email, password, address):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/token",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


SIGN_IN = {"login": (_login, 302), "token": (_token, 200)}


def _lock(app, client, send, email, address):  # type: ignore[no-untyped-def]
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        assert send(client, email, WRONG, address).status_code == 401


@pytest.mark.parametrize("path", SIGN_IN)
def test_lock_out_from_one_address_leaves_the_owner_signing_in_elsewhere(
    app, client, make_user, path
):
    send, ok = SIGN_IN[path]
    therapist = make_user("therapist")
    _lock(app, client, send, therapist.email, ATTACKER)
    assert send(client, therapist.email, PASSWORD, ATTACKER).status_code == 401
    assert send(app.test_client(), therapist.email, PASSWORD, OWNER).status_code == ok
    # the owner signing in does not open the door for the attacker's address
    assert send(client, therapist.email, PASSWORD, ATTACKER).status_code == 401


@pytest.mark.parametrize("path", SIGN_IN)
def test_each_lock_out_of_one_address_lasts_twice_as_long(app, client, make_user, path):
    send, ok = SIGN_IN[path]
    user, minutes = make_user("client"), app.config["LOCKOUT_MINUTES"]
    with time_machine.travel("2026-11-26 10:00:00+00:00", tick=False) as traveller:
        _lock(app, client, send, user.email, ATTACKER)
        traveller.shift(timedelta(minutes=minutes + 1))
        _lock(app, client, send, user.email, ATTACKER)  # open again, locked again
        traveller.shift(timedelta(minutes=minutes + 1))
        assert send(client, user.email, PASSWORD, ATTACKER).status_code == 401
        traveller.shift(timedelta(minutes=minutes))
        assert send(client, user.email, PASSWORD, ATTACKER).status_code == ok
    with app.app_context():
        locks = db.session.scalars(
            select(AuditEvent.ip).where(
                AuditEvent.action == "user.locked", AuditEvent.target_id == user.id
            )
        )
        assert list(locks) == [ATTACKER, ATTACKER]


@pytest.mark.parametrize("path", SIGN_IN)
def test_signing_in_from_an_address_forgets_its_earlier_failures(
    app, client, make_user, path
):
    send, ok = SIGN_IN[path]
    user, threshold = make_user("client"), app.config["LOCKOUT_THRESHOLD"]
    for _ in range(threshold - 1):
        send(client, user.email, WRONG, OWNER)
    assert send(client, user.email, PASSWORD, OWNER).status_code == ok
    for _ in range(threshold - 1):
        send(client, user.email, WRONG, OWNER)
    assert send(app.test_client(), user.email, PASSWORD, OWNER).status_code == ok


@pytest.fixture
def limited_app(make_app):  # type: ignore[no-untyped-def]
    return make_app(AUTH_RATE_LIMIT="7 per minute")


@pytest.mark.parametrize("path", SIGN_IN)
def test_an_unknown_email_meets_the_same_limits_as_an_account(limited_app, path):
    send, _ok = SIGN_IN[path]
    client, user = limited_app.test_client(), new_user(limited_app, "therapist")

    def answers(email, first, second):  # type: ignore[no-untyped-def]
        return [send(client, email, WRONG, first).status_code for _ in range(7)] + [
            send(client, email, WRONG, second).status_code for _ in range(3)
        ]

    known = answers(user.email, "192.0.2.1", "192.0.2.2")
    unknown = answers("nobody@example.org", "192.0.2.3", "192.0.2.4")
    # 5 failures lock the first address; its 2 refusals do not fill the account's
    # limit of 7, so the second address gets 2 tries before 429
    assert known == unknown == [401] * 9 + [429]


# --- timing: the same work whether the account is unknown, unlocked or locked ----

ROUNDS = 30


@pytest.fixture
def scrypt_app(make_app):  # type: ignore[no-untyped-def]
    """Werkzeug's production scrypt: the oracle is hashing versus not hashing."""
    return make_app(PASSWORD_HASH_METHOD="scrypt")


@pytest.mark.parametrize("path", SIGN_IN)
def test_unknown_unlocked_and_locked_accounts_answer_in_the_same_time(scrypt_app, path):
    send, _ok = SIGN_IN[path]
    client = scrypt_app.test_client()
    unlocked, locked = new_user(scrypt_app, "client"), new_user(scrypt_app, "therapist")
    _lock(scrypt_app, client, send, locked.email, ATTACKER)
    cases = {
        "unknown": lambda n: ("nobody@example.org", f"192.0.2.{n}"),
        # a fresh address each time, so these failures never lock the account
        "unlocked": lambda n: (unlocked.email, f"198.51.100.{n}"),
        "locked": lambda n: (locked.email, ATTACKER),
    }
    timings: dict[str, list[float]] = {name: [] for name in cases}
    for n in range(ROUNDS + 1):  # round 0 warms up (the dummy hash is made lazily)
        for name, case in cases.items():
            email, address = case(n + 1)
            start = time.perf_counter()
            assert send(client, email, WRONG, address).status_code == 401
            if n:
                timings[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in timings.items()}
    assert max(medians.values()) < 1.5 * min(medians.values()), medians


def test_the_account_limit_counts_every_spelling_of_one_address(limited_app):
    """The per-account limit keys on the address as accounts store it (Unicode NFC,
    case), not on the typed text: otherwise each spelling is a fresh bucket, and the
    limit that bounds guessing spread over many addresses is multiplied."""
    tag = uuid.uuid4().hex[:8]
    new_user(limited_app, "therapist", f"jos\u00e9-{tag}@example.org")
    spellings = [
        f"jos\u00e9-{tag}@example.org",
        f"jose\u0301-{tag}@example.org",  # decomposed é: the same account
        f" JOS\u00c9-{tag}@Example.ORG ",
    ]
    client = limited_app.test_client()
    answers = [
        send(client, spellings[i % 3], WRONG, f"192.0.2.{10 + i}").status_code
        for i, send in enumerate([_login, _token] * 5)
    ]
    # one bucket of 7 for the account, whatever the spelling or the way in
    assert answers == [401] * 7 + [429] * 3
