"""Instrument definitions: loading, validation, the registry and templates.

One TOML file per form (see docs/instruments.md). Pure: standard library only.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from ._model import (
    Band,
    FlagRule,
    Instrument,
    InstrumentError,
    InstrumentNotFound,
    Item,
    Kind,
    Perspective,
    Scale,
    Scoring,
    Subscale,
)
from ._schema import build_instrument, version_key
from ._templates import complete_template, read_items_file
from ._toml import dump_instrument

__all__ = [
    "Band",
    "FlagRule",
    "Instrument",
    "InstrumentError",
    "InstrumentNotFound",
    "Item",
    "Kind",
    "Perspective",
    "Registry",
    "Scale",
    "Scoring",
    "Subscale",
    "complete_template",
    "dump_instrument",
    "load_directory",
    "load_instrument",
    "parse_instrument",
    "read_items_file",
]

_OPPOSITE = {"client": "therapist", "therapist": "client"}


def parse_instrument(text: str, source: str = "<string>") -> Instrument:
    """Parse and validate one definition given as TOML text; ``source`` names it in
    error messages. Raises InstrumentError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentError(source, f"not valid TOML ({exc})") from None
    return replace(build_instrument(data, source), source=source)


def load_instrument(path: Path | str) -> Instrument:
    """Load and validate one definition file. Raises InstrumentError naming the file,
    the item when there is one, and what is wrong."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise InstrumentError(
            str(path), f"cannot read the file ({exc.strerror})"
        ) from None
    except UnicodeDecodeError as exc:
        raise InstrumentError(str(path), f"not UTF-8 text ({exc.reason})") from None
    return parse_instrument(text, str(path))


def load_directory(path: Path | str, *more: Path | str) -> Registry:
    """Load every ``*.toml`` definition in ``path`` (and in each of ``more``, e.g. an
    ``instance/instruments`` directory of completed licensed forms) into a Registry,
    which checks duplicates and pairs across files."""
    instruments: list[Instrument] = []
    for directory in (Path(path), *(Path(p) for p in more)):
        if not directory.is_dir():
            raise InstrumentError(str(directory), "not a directory")
        instruments += [load_instrument(f) for f in sorted(directory.glob("*.toml"))]
    return Registry(instruments)


class Registry:
    """Validated instruments by (id, version), with cross-file checks.

    Rules checked on construction: an (id, version) is defined once, except that a
    completed instrument replaces its own template when their structures are equal;
    ``pair`` names a known id whose every version has the opposite perspective;
    instruments and templates pair with each other symmetrically and never with a
    meta-perception set.
    """

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        by_key: dict[tuple[str, str], Instrument] = {}
        for instrument in instruments:
            key = (instrument.id, instrument.version)
            earlier = by_key.get(key)
            by_key[key] = instrument if earlier is None else _merge(earlier, instrument)
        self._by_key = dict(sorted(by_key.items(), key=_sort_key))
        self._meta_sets: dict[str, list[Instrument]] = {}
        for instrument in self:
            _check_pair(self, instrument)
            if instrument.kind == "meta_perception" and instrument.pair:
                self._meta_sets.setdefault(instrument.pair, []).append(instrument)

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def all(self) -> list[Instrument]:
        """Every instrument, sorted by id, then version (oldest first)."""
        return list(self._by_key.values())

    def versions(self, instrument_id: str) -> list[Instrument]:
        """Every version of one id, oldest first; empty when the id is unknown."""
        return [i for i in self._by_key.values() if i.id == instrument_id]

    def meta_sets(self, instrument_id: str) -> list[Instrument]:
        """The meta-perception sets paired with this form id, oldest first (the latest is
        last); empty when there are none. Looked up, not searched: research asks once per
        rated session."""
        return list(self._meta_sets.get(instrument_id, ()))

    def get(self, instrument_id: str, version: str) -> Instrument:
        """The instrument with this id and version; raises InstrumentNotFound."""
        try:
            return self._by_key[(instrument_id, version)]
        except KeyError:
            raise InstrumentNotFound(
                f"no instrument {instrument_id!r} {version}"
            ) from None

    def latest(self, instrument_id: str) -> Instrument:
        """The highest version of an id ("1.10" > "1.9"); raises InstrumentNotFound."""
        versions = self.versions(instrument_id)
        if not versions:
            raise InstrumentNotFound(f"no instrument {instrument_id!r}")
        return versions[-1]

    def outcomes(self) -> list[Instrument]:
        """The latest version of every outcome measure (kind "outcome"), by id."""
        ids = sorted({i.id for i in self if i.kind == "outcome"})
        return [self.latest(i) for i in ids]

    def pair_of(self, instrument: Instrument) -> Instrument | None:
        """The latest version of the form paired with ``instrument``, or None."""
        return None if instrument.pair is None else self.latest(instrument.pair)


def _sort_key(entry: tuple[tuple[str, str], Instrument]) -> tuple[str, tuple[int, ...]]:
    (instrument_id, version), _ = entry
    return instrument_id, version_key(version)


def _merge(earlier: Instrument, later: Instrument) -> Instrument:
    kinds = {earlier.kind, later.kind}
    label = f"{later.id!r} version {later.version!r}"
    if kinds != {"template", "instrument"}:
        raise InstrumentError(
            later.origin, f"duplicate instrument {label} (also in {earlier.origin})"
        )
    completed, template = (
        (later, earlier) if later.kind == "instrument" else (earlier, later)
    )
    if _structure(completed) != _structure(template):
        raise InstrumentError(
            completed.origin,
            f"instrument {label} differs from its template in {template.origin} "
            "in more than item text",
        )
    return completed


def _structure(instrument: Instrument) -> Instrument:
    """What a completed instrument must share with its template: all but text and
    the notes and licence that completion may change."""
    items = tuple(replace(item, text="") for item in instrument.items)
    return replace(instrument, kind="template", notes="", licence="", items=items)


def _check_pair(registry: Registry, instrument: Instrument) -> None:
    if instrument.pair is None:
        return
    partners = registry.versions(instrument.pair)
    known = sorted({i.id for i in registry})
    if not partners:
        raise InstrumentError(
            instrument.origin,
            f"'pair' must name a known instrument, one of {known} "
            f"(got {instrument.pair!r})",
        )
    wanted = _OPPOSITE[instrument.perspective]
    for partner in partners:
        if partner.perspective != wanted:
            raise InstrumentError(
                instrument.origin,
                f"'pair' must name a {wanted} form (got {partner.id!r} "
                f"{partner.version}, perspective {partner.perspective!r})",
            )
        if instrument.kind == "meta_perception":
            continue
        if partner.kind == "meta_perception":
            raise InstrumentError(
                instrument.origin,
                f"'pair' must not name a meta-perception set (got {partner.id!r})",
            )
        if partner.pair != instrument.id:
            raise InstrumentError(
                instrument.origin,
                f"'pair' is {partner.id!r}, but {partner.id!r} {partner.version} "
                f"pairs with {partner.pair!r}: pairs must name each other",
            )
