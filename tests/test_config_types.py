"""Settings by type: TELETHERAPY_* values are parsed as JSON, but a text setting keeps
its exact text (a digits-only TURN secret stays a string, leading zeros included),
and a value of the wrong type stops the start with the setting named."""

import pytest

from teletherapy import create_app
from teletherapy.config import ConfigError, declared_types
from teletherapy.extensions import db
from teletherapy.services.ice import ice_servers


@pytest.fixture
def env(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    for key in ("ENV", "SECRET_KEY", "PSEUDONYM_KEY"):
        monkeypatch.delenv(f"TELETHERAPY_{key}", raising=False)
    monkeypatch.setenv("TELETHERAPY_DATABASE_URL", f"sqlite:///{tmp_path / 'c.sqlite'}")

    def start():  # type: ignore[no-untyped-def]
        return create_app({"ENV": "testing", "SECRET_KEY": "k", "PSEUDONYM_KEY": "p"})

    yield monkeypatch, start
    db.session.remove()
    if db.engine is not None:
        db.engine.dispose()


@pytest.mark.parametrize("secret", ["123456789", "0123456789", "1e5", "true"])
def test_a_digits_only_turn_secret_stays_text_and_credentials_work(env, secret) -> None:  # type: ignore[no-untyped-def]
    monkeypatch, start = env
    monkeypatch.setenv("TELETHERAPY_TURN_SECRET", secret)
    monkeypatch.setenv("TELETHERAPY_TURN_URLS", '["turn:turn.example:3478"]')
    app = start()
    assert app.config["TURN_SECRET"] == secret
    (server,) = ice_servers(app.config, "user-1")
    assert server["username"].endswith(":user-1") and server["credential"]


def test_text_settings_keep_the_exact_text(env) -> None:  # type: ignore[no-untyped-def]
    monkeypatch, start = env
    monkeypatch.setenv("TELETHERAPY_MAIL_FROM", "12345")
    monkeypatch.setenv("TELETHERAPY_CONSENT_VERSION", "2027")
    app = start()
    assert app.config["MAIL_FROM"] == "12345"
    assert app.config["CONSENT_VERSION"] == "2027"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("LOCKOUT_THRESHOLD", "five", "a number"),
        ("MAIL_IN_BACKGROUND", "1", "true or false"),
        ("ALLOWED_ORIGINS", '"https://clinic.example"', "a JSON list"),
        ("INSTRUMENT_PAIRS", "[]", "a JSON object"),
        ("SESSION_IDLE_MINUTES", "true", "a number"),
    ],
)
def test_a_value_of_the_wrong_type_stops_the_start_naming_the_setting(
    env, key, value, words
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch, start = env
    monkeypatch.setenv(f"TELETHERAPY_{key}", value)
    with pytest.raises(ConfigError, match=f"TELETHERAPY_{key} must be {words}"):
        start()


def test_numbers_may_be_whole_or_not(env) -> None:  # type: ignore[no-untyped-def]
    monkeypatch, start = env
    monkeypatch.setenv("TELETHERAPY_SESSION_IDLE_MINUTES", "0.5")
    assert start().config["SESSION_IDLE_MINUTES"] == 0.5


def test_every_default_has_a_declared_type() -> None:
    types = declared_types()
    assert types["TURN_SECRET"] is str and types["SECRET_KEY"] is str
    assert types["REQUIRE_2FA_ROLES"] is list and types["LOCKOUT_THRESHOLD"] is int
