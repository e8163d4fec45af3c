"""docs/security.md, row 28: production refuses unsafe set-ups at start, naming the setting."""

import pytest
from sqlalchemy import func, select

from teletherapy import create_app
from teletherapy.config import ConfigError
from teletherapy.extensions import db
from teletherapy.models import User
from teletherapy.services import migrations

SECRET = "s" * 32
PSEUDONYM = "p" * 32


def _production(tmp_path, **settings):  # type: ignore[no-untyped-def]
    config = {
        "ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite'}",
        "ALLOW_SQLITE_IN_PRODUCTION": True,
        "ALLOWED_ORIGINS": ["https://clinic.example"],
        "SECRET_KEY": SECRET,
        "PSEUDONYM_KEY": PSEUDONYM,
        **settings,
    }
    return create_app(config)


@pytest.fixture(autouse=True)
def _no_keys_from_the_environment(monkeypatch):  # type: ignore[no-untyped-def]
    for name in ("SECRET_KEY", "PSEUDONYM_KEY", "ENV"):
        monkeypatch.delenv(f"TELETHERAPY_{name}", raising=False)
    yield
    db.session.remove()
    db.engine.dispose()


def test_keys_of_32_bytes_that_differ_start(tmp_path):
    assert _production(tmp_path).config["ENV"] == "production"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"SECRET_KEY": "s" * 31}, "TELETHERAPY_SECRET_KEY"),
        ({"PSEUDONYM_KEY": "p" * 31}, "TELETHERAPY_PSEUDONYM_KEY"),
        ({"SECRET_KEY": "é" * 15}, "TELETHERAPY_SECRET_KEY"),  # 30 bytes, 15 chars
        ({"PSEUDONYM_KEY": SECRET}, "TELETHERAPY_PSEUDONYM_KEY"),
        ({"SECRET_KEY": PSEUDONYM}, "TELETHERAPY_SECRET_KEY"),
    ],
    ids=["short-secret", "short-pseudonym", "short-in-bytes", "equal", "equal-too"],
)
def test_production_refuses_short_or_equal_keys(tmp_path, settings, named):
    with pytest.raises(ConfigError, match=named):
        _production(tmp_path, **settings)


def test_equal_keys_are_refused_with_both_names(tmp_path):
    with pytest.raises(ConfigError) as refused:
        _production(tmp_path, PSEUDONYM_KEY=SECRET)
    message = str(refused.value)
    assert (
        "TELETHERAPY_SECRET_KEY" in message and "TELETHERAPY_PSEUDONYM_KEY" in message
    )


def test_short_keys_still_start_outside_production(tmp_path):
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": f"sqlite:///{tmp_path / 't.sqlite'}",
            "SECRET_KEY": "k",
            "PSEUDONYM_KEY": "k",
        }
    )
    assert app.config["ENV"] == "testing"


def test_demo_is_refused_in_production_and_writes_nothing(tmp_path):
    migrations.upgrade(f"sqlite:///{tmp_path / 'prod.sqlite'}")
    app = _production(tmp_path)
    app.instance_path = str(tmp_path / "instance")
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "TELETHERAPY_ENV" in result.output and "production" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert not (tmp_path / "instance" / "demo-credentials.txt").exists()


def test_mail_in_production_needs_the_public_address_for_its_links(tmp_path):
    with pytest.raises(ConfigError, match="TELETHERAPY_PUBLIC_URL"):
        _production(tmp_path, SMTP_URL="smtp+starttls://u:p@mail.example:587")
    app = _production(
        tmp_path,
        SMTP_URL="smtp+starttls://u:p@mail.example:587",
        PUBLIC_URL="https://clinic.example",
    )
    assert app.config["PUBLIC_URL"] == "https://clinic.example"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"SMTP_URL": "mail.example:25"}, "TELETHERAPY_SMTP_URL"),
        ({"SMTP_URL": "https://mail.example"}, "TELETHERAPY_SMTP_URL"),
        ({"PUBLIC_URL": "clinic.example"}, "TELETHERAPY_PUBLIC_URL"),
        ({"PUBLIC_URL": "ftp://clinic.example"}, "TELETHERAPY_PUBLIC_URL"),
    ],
)
def test_unusable_mail_settings_stop_the_start_naming_the_setting(
    tmp_path, settings, named
):
    with pytest.raises(ConfigError, match=named):
        _production(tmp_path, **{"PUBLIC_URL": "https://clinic.example", **settings})
