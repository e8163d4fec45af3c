"""FHIR R4 (R4B models): a ``Bundle`` of ``Questionnaire`` and ``QuestionnaireResponse``.

Built as plain data and validated by ``fhir.resources``' R4B models before it
leaves the app. What researchers receive is what the CSV exports give: totals and
subscale scores, never item answers or item text. So each alliance form is a
``Questionnaire`` of its scores, coded in the project's code system
(``ALLIANCE_SYSTEM``, codes ``<form id>.total`` and ``<form id>.<subscale>``); PHQ-9
and GAD-7 carry their LOINC panel codes (44249-1, 69737-5) and total-score codes
(44261-6, 70274-6). Each rating is a ``QuestionnaireResponse`` (subject: the dyad
pseudonym; encounter: the session pseudonym; the session's ISO week, number and
modality as extensions: no ``authored`` date, exports date sessions by week only).
"""

import json
import uuid
from typing import Any

from .rows import PairRow, Side

ALLIANCE_SYSTEM = "urn:teletherapy:codesystem:alliance-scores"
QUESTIONNAIRE = "urn:teletherapy:questionnaire:"
IDS = {
    "session": "urn:teletherapy:pseudonym:session",
    "dyad": "urn:teletherapy:pseudonym:dyad",
    "therapist": "urn:teletherapy:pseudonym:therapist",
}
EXTENSION = "urn:teletherapy:fhir:"
LOINC = "http://loinc.org"
# measure id -> (LOINC panel code, panel name, LOINC total-score code)
OUTCOMES = {
    "phq9": ("44249-1", "PHQ-9 quick depression assessment panel", "44261-6"),
    "gad7": ("69737-5", "Generalized anxiety disorder 7 item (GAD-7)", "70274-6"),
}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    out = {"system": system, "code": code}
    return {**out, "display": display} if display else out


def _alliance_questionnaire(
    form: str, version: str, subscales: list[str]
) -> dict[str, Any]:
    items = [
        {
            "linkId": name,
            "code": [_coding(ALLIANCE_SYSTEM, f"{form}.{name}")],
            "type": "decimal",
            "readOnly": True,
        }
        for name in ["total", *subscales]
    ]
    return {
        "resourceType": "Questionnaire",
        "id": f"{form}-{version}",
        "url": f"{QUESTIONNAIRE}{form}",
        "version": version,
        "name": form.replace("-", "_"),
        "status": "active",
        "item": items,
    }


def _outcome_questionnaire(measure: str) -> dict[str, Any]:
    panel, title, total = OUTCOMES[measure]
    return {
        "resourceType": "Questionnaire",
        "id": measure,
        "url": f"{LOINC}/q/{panel}",
        "name": measure,
        "title": title,
        "status": "active",
        "code": [_coding(LOINC, panel, title)],
        "item": [
            {
                "linkId": total,
                "code": [_coding(LOINC, total)],
                "type": "integer",
                "readOnly": True,
            }
        ],
    }


def _reference(kind: str, value: str) -> dict[str, Any]:
    return {"identifier": {"system": IDS[kind], "value": value}}


def _context(r: PairRow) -> dict[str, Any]:
    extensions: list[dict[str, Any]] = [
        {"url": f"{EXTENSION}session-number", "valueInteger": r.session_number},
        {"url": f"{EXTENSION}modality", "valueCode": r.modality},
    ]
    if r.week:
        extensions.append({"url": f"{EXTENSION}iso-week", "valueString": r.week})
    return {
        "status": "completed",
        "subject": _reference("dyad", r.dyad_pid),
        "encounter": _reference("session", r.session_pid),
        "extension": extensions,
    }


def _alliance_response(r: PairRow, perspective: str, side: Side) -> dict[str, Any]:
    scores = {"total": side.total, **side.subscales}
    items = [
        {"linkId": name, "answer": [{"valueDecimal": value}]}
        for name, value in scores.items()
        if value is not None
    ]
    author = (
        _reference("therapist", r.therapist_pid)
        if perspective == "therapist"
        else {"display": "client"}
    )
    return {
        "resourceType": "QuestionnaireResponse",
        "id": f"{r.session_pid}-{perspective}",
        "questionnaire": f"{QUESTIONNAIRE}{side.instrument_id}|{side.instrument_version}",
        "author": author,
        **_context(r),
        **({"item": items} if items else {}),
    }


def _outcome_response(r: PairRow, measure: str, total: int) -> dict[str, Any]:
    panel, _, code = OUTCOMES[measure]
    return {
        "resourceType": "QuestionnaireResponse",
        "id": f"{r.session_pid}-{measure}",
        "questionnaire": f"{LOINC}/q/{panel}",
        "author": {"display": "client"},
        **_context(r),
        "item": [{"linkId": code, "answer": [{"valueInteger": total}]}],
    }


def _questionnaires(rows: list[PairRow]) -> list[dict[str, Any]]:
    forms: dict[tuple[str, str], dict[str, None]] = {}
    measures: set[str] = set()
    for r in rows:
        for side in (r.client, r.therapist):
            key = (side.instrument_id, side.instrument_version)
            forms.setdefault(key, {}).update(dict.fromkeys(side.subscales))
        measures.update(m for m, v in r.outcomes.items() if v is not None)
    out = [
        _alliance_questionnaire(f, v, list(s)) for (f, v), s in sorted(forms.items())
    ]
    return out + [_outcome_questionnaire(m) for m in OUTCOMES if m in measures]


def _full_url(resource: dict[str, Any]) -> str:
    """A stable urn:uuid per resource (the same rows give the same bundle)."""
    name = f"teletherapy/{resource['resourceType']}/{resource['id']}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def bundle(rows: list[PairRow]) -> dict[str, Any]:
    """The Bundle (type collection) as JSON-ready data, validated by the R4B models."""
    from fhir.resources.R4B.bundle import Bundle

    resources = _questionnaires(rows)
    for r in rows:
        resources.append(_alliance_response(r, "client", r.client))
        resources.append(_alliance_response(r, "therapist", r.therapist))
        for measure in OUTCOMES:
            total = r.outcomes.get(measure)
            if total is not None:
                resources.append(_outcome_response(r, measure, total))
    data = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": _full_url(res), "resource": res} for res in resources],
    }
    checked = Bundle.model_validate(data)
    result: dict[str, Any] = json.loads(checked.model_dump_json(exclude_none=True))
    return result
