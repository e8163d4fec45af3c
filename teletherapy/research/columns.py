"""The one list of the research export's columns: names, types and meanings.

``export.py`` writes these columns in this order and ``codebook.py`` describes
them from the same list, so the two cannot drift apart. A subscale adds one
column per side in ``wide`` (``client_<s>``, ``therapist_<s>``) and one in
``long`` (``subscale_<s>``), between the fixed columns and the quality ones.
"""

from dataclasses import dataclass

from ratings.pairs import subscale_column

SIDES = ("client", "therapist")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # text, integer or number
    description: str


_IDS = [
    Column("session_id", "text", "Pseudonym of the session (S-…)."),
    Column("dyad_id", "text", "Pseudonym of the client–therapist pair (D-…)."),
    Column(
        "therapist_id",
        "text",
        "Pseudonym of the therapist (T-…); dyads nest in therapists.",
    ),
    Column(
        "session_number",
        "integer",
        "Position of the session among the dyad's ended sessions, oldest = 1, counted "
        "before any filter; a gap is a session not rated by both or filtered out.",
    ),
    Column(
        "modality",
        "text",
        "How the session took place: video, audio, chat or in_person.",
    ),
    Column(
        "instrument",
        "text",
        "The instrument pair the totals belong to: its configured pair id (e.g. dta), "
        "else the client form's id. Totals of different instruments are not comparable: "
        "analyse one instrument at a time.",
    ),
]
PREDICTED = (
    "The therapist's prediction of the client's total (meta-perception), on the "
    "client form's total scale: their answers to the client form's meta-perception "
    "set, each subscale's answer standing for the client's items of that subscale "
    "and totalled as the client form totals them; blank when the therapist gave "
    "none or too few."
)
WIDE_FIXED = [
    *_IDS,
    Column("instrument_client", "text", "Id of the client's form (see Instruments)."),
    Column("instrument_client_version", "text", "Version of the client's form."),
    Column(
        "instrument_therapist", "text", "Id of the therapist's form (see Instruments)."
    ),
    Column("instrument_therapist_version", "text", "Version of the therapist's form."),
    Column("client_score", "number", "Client's total score on their form."),
    Column("therapist_score", "number", "Therapist's total score on their form."),
    Column(
        "difference",
        "number",
        "client_score − therapist_score (positive: client higher).",
    ),
    Column("predicted_client_score", "number", PREDICTED),
]
LONG_FIXED = [
    *_IDS,
    Column("perspective", "text", "Who rated: client or therapist."),
    Column("instrument_id", "text", "Id of the rater's form (see Instruments)."),
    Column("instrument_version", "text", "Version of the rater's form."),
    Column(
        "total",
        "number",
        "The rater's total score; blank when too many answers were missing.",
    ),
    Column(
        "predicted_client_score",
        "number",
        PREDICTED + " On the therapist's row only; blank on the client's.",
    ),
]
QUALITY = [
    Column(
        "rtt_ms",
        "number",
        "Median round-trip time (ms) of the session's connection-quality samples from "
        "both participants; blank when none were recorded (in person, chat).",
    ),
    Column("packet_loss_pct", "number", "Mean packet loss (%) of the same samples."),
    Column(
        "quality_samples",
        "integer",
        "Number of connection-quality samples (sent every 5 s by each participant's "
        "call page; switches not counted).",
    ),
    Column(
        "audio_only_switches",
        "integer",
        "How often a participant switched the call to audio only (switches back to "
        "video not counted), whether after the page's offer on a weak connection "
        "or by their own choice; 0 when never, and for chat and in person.",
    ),
]


def _subscale_text(name: str, who: str) -> str:
    return (
        f"{who} score on the subscale '{name}' (see Instruments for its range); blank "
        "when the subscale was not asked (e.g. digital in person) or not scorable."
    )


def wide(subscales: list[str]) -> list[Column]:
    """``wide``: one row per rated session (the input format of ``teletherapy analyze``)."""
    sides = [
        Column(
            f"{side}_{subscale_column(s)}",
            "number",
            _subscale_text(s, side.title() + "'s"),
        )
        for side in SIDES
        for s in subscales
    ]
    return [*WIDE_FIXED, *sides, *QUALITY]


def long(subscales: list[str]) -> list[Column]:
    """``long``: one row per rating, two per session."""
    subs = [
        Column(f"subscale_{s}", "number", _subscale_text(s, "The rater's"))
        for s in subscales
    ]
    return [*LONG_FIXED, *subs, *QUALITY]


# dyadic: one row per session for multilevel and actor-partner models
OUTCOME_MEASURES = {"phq9": "PHQ-9 total (0–27)", "gad7": "GAD-7 total (0–21)"}
CENTRED = {
    "client_score": "the client's total",
    "therapist_score": "the therapist's total",
    "difference": "the difference client − therapist",
}
WEEK = Column(
    "week",
    "text",
    "ISO week the session took place in (UTC), e.g. 2026-W10: exports never date a "
    "session more finely than its week.",
)


def _centred() -> list[Column]:
    out = []
    for name, what in CENTRED.items():
        out += [
            Column(
                f"{name}_dyad_mean",
                "number",
                f"Mean of {what} over this dyad's rows in the file (person mean: the "
                "between-dyad part).",
            ),
            Column(
                f"{name}_within",
                "number",
                f"{name} − {name}_dyad_mean: the within-dyad deviation (person-mean "
                "centred); blank when the row's value is blank.",
            ),
        ]
    return out


def _lags() -> list[Column]:
    return [
        Column(
            f"{name}_lag",
            "number",
            f"{what[0].upper()}{what[1:]} at the dyad's previous session (session_number "
            "− 1); blank when that session is not in the file (not rated by both, or "
            "filtered out) or this is the first.",
        )
        for name, what in CENTRED.items()
    ]


def _outcomes() -> list[Column]:
    out = []
    for measure, what in OUTCOME_MEASURES.items():
        out += [
            Column(
                f"{measure}_before",
                "integer",
                f"{what} the client gave before this session; blank when not asked "
                "or skipped.",
            ),
            Column(
                f"{measure}_next",
                "integer",
                f"{what} the client gave before the dyad's next ended session "
                "(session_number + 1, whether or not that session is in the file); "
                "blank when there is none, or it was not asked or skipped.",
            ),
        ]
    return out


def dyadic() -> list[Column]:
    """``dyadic``: one row per session, both perspectives, centred and lagged."""
    scores = [
        Column("client_score", "number", "Client's total score on their form."),
        Column("therapist_score", "number", "Therapist's total score on their form."),
        Column(
            "difference",
            "number",
            "client_score − therapist_score (positive: client higher).",
        ),
    ]
    return [*_IDS[:4], WEEK, *_IDS[4:], *scores, *_centred(), *_lags(), *_outcomes()]
