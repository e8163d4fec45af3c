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
    audio_only_switches: int


class PairOut(BaseModel):
    session_pid: str
    dyad_pid: str
    therapist_pid: str
    session_number: int
    modality: Modality
    client_total: float | None
    therapist_total: float | None
    difference: float | None
    instrument: str
    predicted_client_score: float | None
    instruments: InstrumentsOut
    subscales: dict[str, SubscalePair]
    quality: QualityOut


class PairList(BaseModel):
    items: list[PairOut]
    next: str | None


class HeadlineOut(BaseModel):
    """The estimate that respects sessions nested in dyads (docs/research.md)."""

    model_config = ConfigDict(extra="allow")

    estimate: float | None
    ci95: list[float | None] | None
    p: float | None
    method: str
    n_dyads: int
    n_pairs: int
    ci_level: float


class SummaryOut(BaseModel):
    """The analysis JSON of docs/research.md; only the contract's keys are listed.

    With several instruments and no instrument filter the pooled blocks are null
    (reason ``mixed_instruments``) and ``by_instrument`` holds one summary each."""

    model_config = ConfigDict(extra="allow")

    n_pairs: int
    n_dyads: int
    headline: HeadlineOut | None
    by_instrument: dict[str, dict[str, Any]] | None
    client_mean: float | None
    client_sd: float | None
    therapist_mean: float | None
    therapist_sd: float | None
    mean_difference: float | None
    sd_difference: float | None
    cohens_d: float | None
    paired_t: dict[str, Any] | None
    wilcoxon: dict[str, Any] | None
    pearson_r: float | None
    spearman_rho: float | None
    icc: dict[str, Any] | None
    bland_altman: dict[str, Any] | None
    rm_corr: dict[str, Any] | None
    by_modality: dict[str, Any] | None
    ruptures: dict[str, Any] | None
    meta_perception: dict[str, Any] | None
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
    dyadic: list[CodebookColumn]


class CodebookOut(BaseModel):
    consent_version: str
    pseudonyms: str
    difference: str
    files: CodebookFiles
    instruments: list[dict[str, Any]]


class FhirBundleOut(BaseModel):
    """A FHIR R4 Bundle (type collection) of Questionnaire and QuestionnaireResponse
    resources, as validated by fhir.resources' R4B models (docs/research.md)."""

    model_config = ConfigDict(extra="allow")

    resourceType: Literal["Bundle"]
    type: Literal["collection"]
    entry: list[dict[str, Any]] = []
