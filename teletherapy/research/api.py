"""Research API endpoints (researchers: pseudonymous, consented data), on the api blueprint.

The functions keep the endpoint names ``api.research_*`` (teletherapy/access.py).
"""

from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from .. import web_auth
from ..api import bp, caller, page, page_args
from ..api.docs import route
from ..api.paging import PAGING
from ..extensions import db
from . import analysis as research_analysis
from . import export as research_export
from .filters import parse_filters
from .rows import PairRow
from .schemas import FILTERS, CodebookOut, FhirBundleOut, PairList, SummaryOut
from .settings import current as settings


def pair_out(r: PairRow) -> dict[str, Any]:
    c, t = r.client, r.therapist
    names = dict.fromkeys([*c.subscales, *t.subscales])
    subscales = {}
    for name in names:
        a, b = c.subscales.get(name), t.subscales.get(name)
        diff = None if a is None or b is None else a - b
        subscales[name] = {"client": a, "therapist": b, "difference": diff}
    return {
        "session_pid": r.session_pid,
        "dyad_pid": r.dyad_pid,
        "therapist_pid": r.therapist_pid,
        "session_number": r.session_number,
        "modality": r.modality,
        "client_total": c.total,
        "therapist_total": t.total,
        "difference": r.difference,
        "instrument": r.instrument,
        "predicted_client_score": r.predicted_client_score,
        "instruments": {
            "client": {"id": c.instrument_id, "version": c.instrument_version},
            "therapist": {"id": t.instrument_id, "version": t.instrument_version},
        },
        "subscales": subscales,
        "quality": {
            "rtt_ms_median": r.rtt_ms,
            "packet_loss_pct_mean": r.packet_loss_pct,
            "samples": r.quality_samples,
            "audio_only_switches": r.audio_only_switches,
        },
    }


@route(
    bp,
    "GET",
    "/research/pairs",
    summary="One row per consented session rated by both sides (pseudonyms)",
    response=PairList,
    errors=(403, 422),
    query={**FILTERS, **PAGING},
)
def research_pairs() -> ResponseReturnValue:
    user = caller()
    filters = parse_filters(request.args, extra=PAGING)
    limit, offset = page_args()
    rows = research_analysis.pairs(
        db.session(), user.id, filters, settings(), origin=web_auth.origin()
    )
    items = [pair_out(r) for r in rows[offset : offset + limit + 1]]
    return jsonify(page(items, limit, offset))


@route(
    bp,
    "GET",
    "/research/summary",
    summary="The discrepancy analysis of the consented pairs (docs/research.md)",
    response=SummaryOut,
    errors=(403, 422),
    query=FILTERS,
)
def research_summary() -> ResponseReturnValue:
    user = caller()
    filters = parse_filters(request.args)
    return jsonify(
        research_analysis.summary(
            db.session(), user.id, filters, settings(), origin=web_auth.origin()
        )
    )


@route(
    bp,
    "GET",
    "/research/export.csv",
    summary="CSV export: shape=wide (one row per session), long (one per rating) or "
    "dyadic (one per session, centred, lagged and outcome columns)",
    errors=(403, 422),
    query={"shape": "wide (default), long or dyadic", **FILTERS},
    content_type="text/csv",
)
def research_export_csv() -> ResponseReturnValue:
    user = caller()
    filters = parse_filters(request.args, extra=("shape",))
    shape = research_export.parse_shape(request.args.get("shape"))
    body = research_export.export_csv(
        db.session(), user.id, filters, settings(), shape, origin=web_auth.origin()
    )
    headers = {"Content-Disposition": f"attachment; filename=research-{shape}.csv"}
    return Response(body, mimetype="text/csv", headers=headers)


def _export_rows(shape: str) -> list[PairRow]:
    user = caller()
    filters = parse_filters(request.args)
    return research_export.export_rows(
        db.session(), user.id, filters, settings(), shape, origin=web_auth.origin()
    )


def _attachment(body: str, mimetype: str, name: str) -> Response:
    headers = {"Content-Disposition": f"attachment; filename={name}"}
    return Response(body, mimetype=mimetype, headers=headers)


@route(
    bp,
    "GET",
    "/research/redcap/dictionary.csv",
    summary="REDCap data dictionary of the records file (its 18 columns in order)",
    errors=(403, 422),
    query=FILTERS,
    content_type="text/csv",
)
def research_redcap_dictionary() -> ResponseReturnValue:
    rows = _export_rows("redcap_dictionary")
    body = research_export.redcap_csv(rows, "dictionary")
    return _attachment(body, "text/csv", "redcap-dictionary.csv")


@route(
    bp,
    "GET",
    "/research/redcap/records.csv",
    summary="REDCap records: per dyad a record, one repeating instance per session",
    errors=(403, 422),
    query=FILTERS,
    content_type="text/csv",
)
def research_redcap_records() -> ResponseReturnValue:
    rows = _export_rows("redcap_records")
    body = research_export.redcap_csv(rows, "records")
    return _attachment(body, "text/csv", "redcap-records.csv")


@route(
    bp,
    "GET",
    "/research/fhir.json",
    summary="FHIR R4 Bundle of Questionnaire and QuestionnaireResponse resources",
    response=FhirBundleOut,
    errors=(403, 422),
    query=FILTERS,
    content_type="application/fhir+json",
)
def research_fhir() -> ResponseReturnValue:
    rows = _export_rows("fhir")
    body = research_export.fhir_json(rows)
    return _attachment(body, "application/fhir+json", "research-fhir.json")


@route(
    bp,
    "GET",
    "/research/codebook",
    summary="Every export column and the instruments behind the scores",
    response=CodebookOut,
    errors=(403,),
)
def research_codebook() -> ResponseReturnValue:
    caller()
    return jsonify(research_export.codebook_for(db.session(), settings()))
