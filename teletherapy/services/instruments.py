"""Rating instruments for the services: pairs of forms, and forms as shown.

The services take the registry and the pair configuration in ``Settings``
(teletherapy/config.py: INSTRUMENT_PAIRS, THERAPIST_META_PERCEPTION,
IN_PERSON_OMIT_SUBSCALES and the app's registry, loaded on first use); loading,
caching and importing definitions is teletherapy/instruments_app.py's part. See
docs/instruments.md and docs/ratings.md.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ratings import Instrument, InstrumentError, InstrumentNotFound, Registry

from ..config import Settings
from .errors import Conflict

log = logging.getLogger(__name__)


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


def registry(settings: Settings) -> Registry:
    """The registry of these settings; Unavailable (logged) when it does not load."""
    try:
        return settings.instrument_registry()
    except InstrumentError as exc:
        # Path and place only: the problem text may quote a licensed file.
        log.error("instrument definitions do not load: %s (%s)", exc.path, exc.where)
        raise Unavailable("the rating forms cannot be loaded") from None


class NotUsable(Exception):
    """Why a pair cannot be offered (ids and kinds only, never item text)."""


def pair(settings: Settings, pair_id: str) -> Pair:
    """Resolve a pair id (INSTRUMENT_PAIRS, or any instrument id) to showable forms;
    Unavailable (409 instrument_unavailable) when it cannot be offered."""
    return _offer(settings, pair_id, settings.instrument_pairs)


def pair_of_form(settings: Settings, instrument_id: str) -> Pair:
    """The pair of one form: the latest version of it and of its partner."""
    return _offer(settings, instrument_id, {})


def _offer(settings: Settings, pair_id: str, pairs: Mapping[str, Any]) -> Pair:
    reg = registry(settings)
    try:
        return resolve(reg, pair_id, pairs, meta=settings.therapist_meta_perception)
    except NotUsable as exc:
        log.warning("instrument pair %r cannot be offered: %s", pair_id, exc)
        raise Unavailable(
            "the rating form for this session is not available: an administrator "
            "must finish setting it up"
        ) from None


def resolve(
    reg: Registry, pair_id: str, pairs: Mapping[str, Any], *, meta: bool
) -> Pair:
    """The showable client and therapist forms of a pair id (``pairs``:
    INSTRUMENT_PAIRS; ``meta``: THERAPIST_META_PERCEPTION); NotUsable otherwise."""
    entry = pairs.get(pair_id)
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
    meta_set = _meta(reg, client) if meta else None
    return Pair(
        pair_id, _usable(client, "client"), _usable(therapist, "therapist"), meta_set
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
    sets = [i for i in reg.meta_sets(client.id) if i.is_showable]
    return sets[-1] if sets else None  # oldest first: the latest is last


def for_modality(form: Instrument, modality: str, settings: Settings) -> Instrument:
    """The form as shown: in person, subscales listed in IN_PERSON_OMIT_SUBSCALES
    (only ones left out of the total) are not asked."""
    if modality != "in_person":
        return form
    omit = settings.in_person_omit_subscales
    gone = {s.id for s in form.subscales if s.id in omit and not s.in_total}
    if not gone:
        return form
    return replace(
        form,
        subscales=tuple(s for s in form.subscales if s.id not in gone),
        items=tuple(i for i in form.items if i.subscale not in gone),
    )
