"""Rating instruments for the app: the registry (loaded once per app), pairs, imports.

Definitions come from ``INSTRUMENTS_DIR`` (config/instruments, in the repository)
and from ``instance/instruments`` (completed licensed forms, never in the
repository). See docs/instruments.md and docs/ratings.md.
"""

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask.globals import app_ctx

from ratings import (
    Instrument,
    InstrumentError,
    InstrumentNotFound,
    Registry,
    complete_template,
    load_directory,
)

from ..private_files import write_private
from .errors import Conflict, NotFound

log = logging.getLogger(__name__)
_EXTENSION = "instruments"
_lock = threading.Lock()


class Unavailable(Conflict):
    """The configured rating form cannot be shown (a template, unknown, or broken)."""

    code = "instrument_unavailable"


@dataclass(frozen=True)
class Pair:
    """The forms of one pair id: client, therapist and the optional meta set."""

    id: str
    client: Instrument
    therapist: Instrument
    meta: Instrument | None

    def form(self, perspective: str) -> Instrument:
        return self.client if perspective == "client" else self.therapist


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


def _registry_or_unavailable() -> Registry:
    try:
        return registry()
    except InstrumentError as exc:
        # Path and place only: the problem text may quote a licensed file.
        log.error("instrument definitions do not load: %s (%s)", exc.path, exc.where)
        raise Unavailable("the rating forms cannot be loaded") from None


class NotUsable(Exception):
    """Why a pair cannot be offered (ids and kinds only, never item text)."""


def pair(pair_id: str) -> Pair:
    """Resolve a pair id (INSTRUMENT_PAIRS, or any instrument id) to showable forms;
    Unavailable (409 instrument_unavailable) when it cannot be offered."""
    return _offer(pair_id, current_app.config)


def pair_of_form(instrument_id: str) -> Pair:
    """The pair of one form: the latest version of it and of its partner."""
    return _offer(instrument_id, {**current_app.config, "INSTRUMENT_PAIRS": {}})


def _offer(pair_id: str, config: Mapping[str, Any]) -> Pair:
    reg = _registry_or_unavailable()
    try:
        return resolve(reg, pair_id, config)
    except NotUsable as exc:
        log.warning("instrument pair %r cannot be offered: %s", pair_id, exc)
        raise Unavailable(
            "the rating form for this session is not available: an administrator "
            "must finish setting it up"
        ) from None


def resolve(reg: Registry, pair_id: str, config: Mapping[str, Any]) -> Pair:
    """The showable client and therapist forms of a pair id; NotUsable otherwise."""
    entry = config.get("INSTRUMENT_PAIRS", {}).get(pair_id)
    try:
        if isinstance(entry, dict):
            client = reg.latest(str(entry.get("client")))
            therapist = reg.latest(str(entry.get("therapist")))
        else:
            one = reg.latest(pair_id)
            other = reg.pair_of(one)
            if other is None:
                raise NotUsable(f"{pair_id!r} has no paired form")
            client, therapist = (
                (one, other) if one.perspective == "client" else (other, one)
            )
    except InstrumentNotFound as exc:
        raise NotUsable(str(exc)) from None
    meta = _meta(reg, client) if config.get("THERAPIST_META_PERCEPTION", True) else None
    return Pair(
        pair_id, _usable(client, "client"), _usable(therapist, "therapist"), meta
    )


def _usable(form: Instrument, perspective: str) -> Instrument:
    name = f"{form.id} {form.version}"
    if form.perspective != perspective or form.kind not in ("instrument", "template"):
        raise NotUsable(f"{name} is not a {perspective} form")
    if not form.is_showable:
        raise NotUsable(
            f"{name} is a template without its item text: run "
            f"`teletherapy instruments import {form.id} --items FILE`"
        )
    return form


def _meta(reg: Registry, client: Instrument) -> Instrument | None:
    sets = [
        i
        for i in reg
        if i.kind == "meta_perception" and i.pair == client.id and i.is_showable
    ]
    return sets[-1] if sets else None  # the registry is sorted: the latest is last


def pair_status(app: Flask) -> list[tuple[str, str]]:
    """(pair id, "usable: …" or "not usable: why") for the CLI."""
    reg = load(app)
    ids = list(app.config.get("INSTRUMENT_PAIRS", {}))
    default = str(app.config["DEFAULT_INSTRUMENT_PAIR"])
    rows = []
    for pair_id in ids + ([default] if default not in ids else []):
        try:
            found = resolve(reg, pair_id, app.config)
        except NotUsable as exc:
            rows.append((pair_id, f"not usable: {exc}"))
            continue
        forms = [found.client, found.therapist] + ([found.meta] if found.meta else [])
        rows.append(
            (pair_id, "usable: " + ", ".join(f"{f.id} {f.version}" for f in forms))
        )
    return rows


def for_modality(form: Instrument, modality: str) -> Instrument:
    """The form as shown: in person, subscales listed in IN_PERSON_OMIT_SUBSCALES
    (only ones left out of the total) are not asked."""
    if modality != "in_person":
        return form
    omit = set(current_app.config.get("IN_PERSON_OMIT_SUBSCALES", []))
    gone = {s.id for s in form.subscales if s.id in omit and not s.in_total}
    if not gone:
        return form
    return replace(
        form,
        subscales=tuple(s for s in form.subscales if s.id not in gone),
        items=tuple(i for i in form.items if i.subscale not in gone),
    )


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
