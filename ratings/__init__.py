"""Alliance instruments and their scoring: a pure library (no Flask, no database).

Scoring and validation run the same inside the app and in a researcher's notebook.
"""

from .instruments import (
    Instrument,
    InstrumentError,
    InstrumentNotFound,
    Item,
    Registry,
    Scale,
    Subscale,
    complete_template,
    dump_instrument,
    load_directory,
    load_instrument,
    parse_instrument,
    read_items_file,
)
from .scoring import (
    WHOLE_ANSWERS,
    OutcomeScore,
    Scores,
    ScoringError,
    band_of,
    score,
    score_outcome,
    validate_answers,
)

__all__ = [
    "WHOLE_ANSWERS",
    "Instrument",
    "InstrumentError",
    "InstrumentNotFound",
    "Item",
    "OutcomeScore",
    "Registry",
    "Scale",
    "Scores",
    "ScoringError",
    "Subscale",
    "band_of",
    "complete_template",
    "dump_instrument",
    "load_directory",
    "load_instrument",
    "parse_instrument",
    "read_items_file",
    "score",
    "score_outcome",
    "validate_answers",
]
