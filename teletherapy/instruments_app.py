"""The app's side of the rating instruments: the registry (loaded once per app and
kept in app.extensions) and the `teletherapy instruments` commands' helpers.

Definitions come from ``INSTRUMENTS_DIR`` (config/instruments, in the repository)
and from ``instance/instruments`` (completed licensed forms, never in the
repository). The services get the registry through ``Settings``
(teletherapy/config.py) and resolve pairs in services/instruments.py. See
docs/instruments.md and docs/ratings.md.
"""

import threading
from pathlib import Path

from flask import Flask
from flask.globals import app_ctx

from ratings import (
    Instrument,
    InstrumentError,
    InstrumentNotFound,
    Registry,
    complete_template,
    load_directory,
)

from .private_files import write_private
from .services.errors import Conflict, NotFound
from .services.instruments import NotUsable, resolve

_EXTENSION = "instruments"
_lock = threading.Lock()


def config_dir(app: Flask) -> Path:
    return Path(app.config["INSTRUMENTS_DIR"])


def imported_dir(app: Flask) -> Path:
    """Where `teletherapy instruments import` writes completed licensed forms."""
    return Path(app.instance_path) / "instruments"


def load(app: Flask) -> Registry:
    """Read both directories now (no cache); raises InstrumentError."""
    extra = imported_dir(app)
    dirs = [config_dir(app)] + ([extra] if extra.is_dir() else [])
    return load_directory(*dirs)


def registry(app: Flask | None = None) -> Registry:
    """The app's registry, loaded on first use and kept in app.extensions."""
    app = app or app_ctx.app  # the app itself, not its proxy
    with _lock:
        found = app.extensions.get(_EXTENSION)
        if found is None:
            found = app.extensions[_EXTENSION] = load(app)
        return found


def reset(app: Flask | None = None) -> None:
    """Forget the cached registry (after an import, or a config change in tests)."""
    app = app or app_ctx.app  # the app itself, not its proxy
    with _lock:
        app.extensions.pop(_EXTENSION, None)


def pair_status(app: Flask) -> list[tuple[str, str]]:
    """(pair id, "usable: …" or "not usable: why") for the CLI."""
    reg = load(app)
    pairs = app.config.get("INSTRUMENT_PAIRS", {})
    meta = bool(app.config.get("THERAPIST_META_PERCEPTION", True))
    ids = list(pairs)
    default = str(app.config["DEFAULT_INSTRUMENT_PAIR"])
    rows = []
    for pair_id in ids + ([default] if default not in ids else []):
        try:
            found = resolve(reg, pair_id, pairs, meta=meta)
        except NotUsable as exc:
            rows.append((pair_id, f"not usable: {exc}"))
            continue
        forms = [found.client, found.therapist] + ([found.meta] if found.meta else [])
        rows.append(
            (pair_id, "usable: " + ", ".join(f"{f.id} {f.version}" for f in forms))
        )
    return rows


def listing(app: Flask) -> list[tuple[Instrument, str]]:
    """Every instrument with where it came from ("config" or "instance")."""
    base = imported_dir(app).resolve()
    rows = []
    for form in load(app):
        source = Path(form.source).resolve()
        rows.append((form, "instance" if base in source.parents else "config"))
    return rows


def import_template(
    app: Flask, template_id: str, items_file: str, *, overwrite: bool = False
) -> Path:
    """Complete a template with licensed text into instance/instruments/; returns the
    file written. The result must load together with everything else."""
    try:
        template = load_directory(config_dir(app)).latest(template_id)
    except InstrumentNotFound:
        raise NotFound(f"no template {template_id!r} in {config_dir(app)}") from None
    text = complete_template(template, items_file)
    target = imported_dir(app) / f"{template.id}-{template.version}.toml"
    if target.exists() and not overwrite:
        raise Conflict(f"{target} exists; pass --replace to write it again")
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = target.read_bytes() if target.exists() else None
    write_private(target, text)  # licensed text
    try:
        load(app)
    except InstrumentError:
        if previous is None:
            target.unlink()
        else:
            target.write_bytes(previous)
        raise
    reset(app)
    return target
