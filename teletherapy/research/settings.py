"""The configuration the research services use, handed to them by the views and the API.

The services (rows, analysis, export) read nothing from the Flask application
themselves: ``ResearchSettings.from_app`` collects what they need once per request
(the instrument pairs, the multilevel size limit, the consent text version, the
instrument registry and the pseudonym key), so they can be called, and tested, with
any settings.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from ratings import InstrumentError, Registry

from ..config import Settings

log = logging.getLogger(__name__)
DEFAULT_MULTILEVEL_MAX_PAIRS = 2000
DEFAULT_MIN_CELL = 5


@dataclass(frozen=True)
class ResearchSettings:
    """``instrument_pairs``: INSTRUMENT_PAIRS (pair id -> {"client", "therapist"});
    ``multilevel_max_pairs``: RESEARCH_MULTILEVEL_MAX_PAIRS; ``consent_version``:
    CONSENT_VERSION; ``registry``: the instrument definitions (None when they do not
    load: predictions are then not scored and the codebook says so);
    ``pseudonym_key``: PSEUDONYM_KEY (services/pseudonyms.py; empty: no export);
    ``min_cell``: RESEARCH_MIN_CELL, the fewest dyads a slice may show (cells.py)."""

    instrument_pairs: Mapping[str, Any] = field(default_factory=dict)
    multilevel_max_pairs: int = DEFAULT_MULTILEVEL_MAX_PAIRS
    consent_version: str = ""
    registry: Registry | None = None
    pseudonym_key: str = ""
    min_cell: int = DEFAULT_MIN_CELL

    @classmethod
    def from_app(cls, app: Flask) -> "ResearchSettings":
        """The settings of this app: the instrument pairs, consent version and registry
        as the rating services see them (``config.Settings``), plus research's own keys."""
        base = Settings.from_app(app)
        try:
            registry: Registry | None = base.instrument_registry()
        except InstrumentError as exc:
            # Path and place only: the problem text may quote a licensed file.
            log.error(
                "instrument definitions do not load: %s (%s)", exc.path, exc.where
            )
            registry = None
        limit = app.config.get(
            "RESEARCH_MULTILEVEL_MAX_PAIRS", DEFAULT_MULTILEVEL_MAX_PAIRS
        )
        return cls(
            instrument_pairs=base.instrument_pairs,
            multilevel_max_pairs=int(limit),
            consent_version=base.consent_version,
            registry=registry,
            pseudonym_key=str(app.config.get("PSEUDONYM_KEY") or ""),
            min_cell=int(app.config.get("RESEARCH_MIN_CELL", DEFAULT_MIN_CELL)),
        )

    def pair_id(self, client_form: str, therapist_form: str) -> str:
        """The instrument pair these two forms belong to: the INSTRUMENT_PAIRS id
        naming both (first in configured order), else the client form's id."""
        for pair_id, entry in self.instrument_pairs.items():
            if (
                isinstance(entry, Mapping)
                and str(entry.get("client")) == client_form
                and str(entry.get("therapist")) == therapist_form
            ):
                return str(pair_id)
        return client_form

    def instrument_ids(self, instrument: str) -> set[str]:
        """The form ids an ``instrument`` filter stands for (a pair id names two)."""
        entry = self.instrument_pairs.get(instrument)
        if isinstance(entry, Mapping):
            return {str(entry.get("client")), str(entry.get("therapist"))}
        return {instrument}


def current() -> ResearchSettings:
    """The running app's settings: for the views and the API, never the services."""
    from flask.globals import app_ctx

    return ResearchSettings.from_app(app_ctx.app)  # the app itself, not its proxy
