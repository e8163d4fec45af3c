"""Schemas of the research API endpoints (they document the responses)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Modality = Literal["video", "audio", "chat", "in_person"]
FILTERS = {
    "modality": "video, audio, chat or in_person",
    "instrument": "an instrument id (e.g. dta-c) or a pair id (e.g. dta)",
    "from": "first session date, YYYY-MM-DD (UTC)",
    "to": "last session date, YYYY-MM-DD (UTC), inclusive",
    "therapist": "a therapist pseudonym, T-<16 hex digits>",
}


class FormRef(BaseModel):
    id: str
    version: str


class InstrumentsOut(BaseModel):
    client: FormRef
    therapist: FormRef


class SubscalePair(BaseModel):
    client: float | None
    therapist: float | None
    difference: float | None


class QualityOut(BaseModel):
    rtt_ms_median: float | None
    packet_loss_pct_mean: float | None
    samples: int


class PairOut(BaseModel):
    session_pid: str
    dyad_pid: str
    therapist_pid: str
    session_number: int
    modality: Modality
    client_total: float | None
    therapist_total: float | None
    difference: float | None
    instruments: InstrumentsOut
    subscales: dict[str, SubscalePair]
    quality: QualityOut


class PairList(BaseModel):
    items: list[PairOut]
    next: str | None


class SummaryOut(BaseModel):
    """The analysis JSON of docs/research.md; only the contract's keys are listed."""

    model_config = ConfigDict(extra="allow")

    n_pairs: int
    n_dyads: int
    client_mean: float | None
    client_sd: float | None
    therapist_mean: float | None
    therapist_sd: float | None
    mean_difference: float | None
    sd_difference: float | None
    cohens_d: float | None
    paired_t: dict[str, Any]
    wilcoxon: dict[str, Any]
    pearson_r: float | None
    spearman_rho: float | None
    icc: dict[str, Any]
    bland_altman: dict[str, Any]
    rm_corr: dict[str, Any]
    by_modality: dict[str, Any]
    reasons: dict[str, str]
    filters: dict[str, str]
    instruments: list[dict[str, str]]


class CodebookColumn(BaseModel):
    name: str
    type: Literal["text", "integer", "number"]
    description: str


class CodebookFiles(BaseModel):
    wide: list[CodebookColumn]
    long: list[CodebookColumn]


class CodebookOut(BaseModel):
    consent_version: str
    pseudonyms: str
    difference: str
    files: CodebookFiles
    instruments: list[dict[str, Any]]
