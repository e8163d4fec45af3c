"""Configuration: config/default.toml → config/<env>.toml → TELETHERAPY_* → test_config."""

import os
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Config, Flask
from flask.globals import app_ctx

from ratings import Registry

from . import paths

ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(RuntimeError):
    """The deployment's configuration cannot be used; the message says what to change."""


def _no_registry() -> Registry:
    raise RuntimeError(
        "these Settings were built without the instrument registry: "
        "use Settings.from_app(app) or config.settings()"
    )


@dataclass(frozen=True)
class Settings:
    """The configuration services take as an argument instead of reading app.config
    (rating_submission, blinding, consent, accounts, demo, instruments; pyproject's
    import-linter contract keeps Flask out of services/)."""

    rating_window: timedelta  # RATING_WINDOW_HOURS
    default_instrument_pair: str  # DEFAULT_INSTRUMENT_PAIR
    reveal_policy: str  # RATING_REVEAL_POLICY as configured; blinding checks it
    consent_version: str  # CONSENT_VERSION
    # PASSWORD_HASH_METHOD: Werkzeug's scrypt (n=2**15, r=8, p=1) unless the test
    # config lowers the work factor
    password_hash_method: str
    # INSTRUMENT_PAIRS: pair id -> {"client": form id, "therapist": form id}
    instrument_pairs: Mapping[str, Any] = field(default_factory=dict)
    therapist_meta_perception: bool = True  # THERAPIST_META_PERCEPTION
    in_person_omit_subscales: frozenset[str] = frozenset()  # IN_PERSON_OMIT_SUBSCALES
    # The app's instrument registry, loaded (and cached per app) on the first call,
    # so a request that shows no form never loads it; raises InstrumentError.
    instrument_registry: Callable[[], Registry] = _no_registry

    @classmethod
    def of(
        cls,
        config: Mapping[str, Any],
        registry: Callable[[], Registry] = _no_registry,
    ) -> "Settings":
        return cls(
            rating_window=timedelta(hours=float(config["RATING_WINDOW_HOURS"])),
            default_instrument_pair=str(config["DEFAULT_INSTRUMENT_PAIR"]),
            reveal_policy=str(config.get("RATING_REVEAL_POLICY", "blind")),
            consent_version=str(config["CONSENT_VERSION"]),
            password_hash_method=str(config.get("PASSWORD_HASH_METHOD", "scrypt")),
            instrument_pairs=dict(config.get("INSTRUMENT_PAIRS", {})),
            therapist_meta_perception=bool(
                config.get("THERAPIST_META_PERCEPTION", True)
            ),
            in_person_omit_subscales=frozenset(
                config.get("IN_PERSON_OMIT_SUBSCALES", [])
            ),
            instrument_registry=registry,
        )

    @classmethod
    def from_app(cls, app: Flask) -> "Settings":
        """The settings of this app, with its instrument registry."""
        from . import instruments_app

        return cls.of(app.config, lambda: instruments_app.registry(app))


def settings() -> Settings:
    """The current app's Settings, built per call: a config changed after start
    (as tests do) is what the next request sees."""
    return Settings.from_app(app_ctx.app)  # the app itself, not its proxy


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill app.config in the documented order and check it."""
    env = (test_config or {}).get("ENV") or os.environ.get(
        "TELETHERAPY_ENV", "development"
    )
    if env not in ENVIRONMENTS:
        raise ConfigError(
            f"TELETHERAPY_ENV must be one of {list(ENVIRONMENTS)} (got {env!r})"
        )
    app.config["ENV"] = env
    for name in ("default", env):
        app.config.from_file(
            str(paths.CONFIG / f"{name}.toml"), load=tomllib.load, text=False
        )
    app.config.from_prefixed_env("TELETHERAPY")
    _keep_strings_as_typed(app.config)
    if test_config:
        app.config.update(test_config)
    _check_types(app.config)
    _derive(app)
    _check(app)


# Settings without a default in config/default.toml whose type is still declared.
EXTRA_TYPES: dict[str, type] = {
    "SECRET_KEY": str,
    "PSEUDONYM_KEY": str,
    "SIGNALING_CHANNEL": str,
    "SIGNALING_PRESENCE_PREFIX": str,
}
TYPE_WORDS = {
    str: "text",
    bool: "true or false",
    int: "a number",
    float: "a number",
    list: 'a JSON list, e.g. \'["a", "b"]\'',
    dict: "a JSON object",
}


def declared_types() -> dict[str, type]:
    """Each setting's type: that of its value in config/default.toml (a number may
    be whole or not), plus EXTRA_TYPES."""
    with (paths.CONFIG / "default.toml").open("rb") as fh:
        defaults = tomllib.load(fh)
    types = {key: type(value) for key, value in defaults.items()}
    return {**types, **EXTRA_TYPES}


def _keep_strings_as_typed(config: Config) -> None:
    """TELETHERAPY_* values are parsed as JSON, so a digits-only secret would become
    an integer (and "0123" the number 123): a text setting keeps the environment's
    exact text."""
    for key, kind in declared_types().items():
        raw = os.environ.get(f"TELETHERAPY_{key}")
        if kind is str and raw is not None:
            config[key] = raw


def _check_types(config: Config) -> None:
    """Refuse a setting of the wrong type at start, naming it (not a crash later)."""
    for key, kind in declared_types().items():
        value = config.get(key)
        if value is None:  # unset (Flask's own SECRET_KEY default, say)
            continue
        if kind in (int, float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        else:
            ok = isinstance(value, kind) or (kind is str and isinstance(value, bytes))
        if not ok:
            raise ConfigError(
                f"TELETHERAPY_{key} must be {TYPE_WORDS.get(kind, kind.__name__)} "
                f"(got {type(value).__name__} {str(value)[:40]!r})"
            )


def _derive(app: Flask) -> None:
    instance = Path(app.instance_path)
    if not app.config["DATABASE_URL"]:
        instance.mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'teletherapy.sqlite'}"
    if not app.config.get("INSTRUMENTS_DIR"):
        app.config["INSTRUMENTS_DIR"] = str(paths.CONFIG / "instruments")
    if not app.config.get("SECRET_KEY") and app.config["ENV"] != "production":
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key")
    if not app.config.get("PSEUDONYM_KEY") and app.config["ENV"] != "production":
        app.config["PSEUDONYM_KEY"] = _instance_secret(instance / "pseudonym_key")
    if not app.config.get("ALLOWED_ORIGINS") and app.config["ENV"] != "production":
        # The server's own origin: from HOST/PORT (as in the Makefile) until
        # `teletherapy serve` replaces it with the address it really serves.
        app.config["ALLOWED_ORIGINS"] = served_origins(
            os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "5000")
        )
        app.config["ALLOWED_ORIGINS_FOLLOW_SERVE"] = True
    app.config.setdefault("SESSION_COOKIE_SECURE", True)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", True)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        # Pages send Referrer-Policy: no-referrer (no link secret or record id leaves
        # in a Referer), so browsers send no Referer and Flask-WTF's HTTPS-only
        # Referer check would refuse every form; the CSRF token and SameSite=Lax
        # cookies protect the forms (docs/security.md, rows 8 and 24)
        WTF_CSRF_SSL_STRICT=False,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )


# Hosts whose pages are also reached as localhost (names only: nothing binds here).
LOOPBACK_HOSTS = frozenset(
    {"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"}  # noqa: S104  # nosec B104
)


def served_origins(host: str, port: int | str, scheme: str = "http") -> list[str]:
    """The origins a browser sends for pages of a server on host:port (HTTP, or
    HTTPS with ``scheme="https"``); a loopback or all-interfaces host is also
    reached as localhost and 127.0.0.1."""
    name = f"[{host}]" if ":" in host else host
    origins = [f"{scheme}://{name.lower()}:{port}"]
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        origins += [f"{scheme}://localhost:{port}", f"{scheme}://127.0.0.1:{port}"]
    return list(dict.fromkeys(origins))


def _instance_secret(path: Path) -> str:
    """A random secret generated once per install and kept under instance/ (mode 600)."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def _check(app: Flask) -> None:
    _check_mail(app.config)
    if app.config["ENV"] != "production":
        return
    _check_keys(app.config)
    if not app.config.get("ALLOWED_ORIGINS"):
        raise ConfigError(
            "production needs TELETHERAPY_ALLOWED_ORIGINS, e.g. '[\"https://clinic.example\"]'"
        )
    if app.config.get("SMTP_URL") and not app.config.get("PUBLIC_URL"):
        raise ConfigError(
            "production sends mail (TELETHERAPY_SMTP_URL is set) and needs "
            "TELETHERAPY_PUBLIC_URL, e.g. 'https://clinic.example', for the links in it"
        )
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite") and not app.config["ALLOW_SQLITE_IN_PRODUCTION"]:
        raise ConfigError(
            "production refuses SQLite: set TELETHERAPY_DATABASE_URL to PostgreSQL, "
            "or TELETHERAPY_ALLOW_SQLITE_IN_PRODUCTION=true to accept the risk"
        )


def _check_mail(config: Config) -> None:
    """SMTP_URL and PUBLIC_URL, when set, must be usable (any environment)."""
    from urllib.parse import urlsplit

    from .services.mail import SmtpTransport

    if config.get("SMTP_URL"):
        try:
            SmtpTransport.from_url(str(config["SMTP_URL"]))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    public = str(config.get("PUBLIC_URL") or "")
    parts = urlsplit(public)
    if public and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise ConfigError(
            "TELETHERAPY_PUBLIC_URL must be the address people open, e.g. "
            f"'https://clinic.example' (got {public[:80]!r})"
        )


MIN_KEY_BYTES = 32
KEY_HINT = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def _check_keys(config: Config) -> None:
    """Production keys: present, at least MIN_KEY_BYTES long and not one another."""
    keys: dict[str, bytes] = {}
    for name, use in (("SECRET_KEY", "signs cookies"), ("PSEUDONYM_KEY", "pseudonyms")):
        value = config.get(name) or ""
        keys[name] = value if isinstance(value, bytes) else str(value).encode()
        if len(keys[name]) < MIN_KEY_BYTES:
            raise ConfigError(
                f"production needs TELETHERAPY_{name} ({use}) of at least "
                f"{MIN_KEY_BYTES} random bytes (got {len(keys[name])}); make one with "
                f"{KEY_HINT}"
            )
    if keys["SECRET_KEY"] == keys["PSEUDONYM_KEY"]:
        raise ConfigError(
            "TELETHERAPY_SECRET_KEY and TELETHERAPY_PSEUDONYM_KEY must differ: whoever "
            "learns the cookie key must not be able to link research pseudonyms"
        )
