"""The codebook: every column of the exports, and the instruments behind the scores.

Instruments are described by structure only (ids, versions, scale, scoring,
subscales, score ranges): item text never leaves the app, licensed or not.
"""

from typing import Any

from . import columns as export_columns
from .columns import Column
from .rows import PairRow, instruments_in, subscale_names
from .settings import ResearchSettings

PSEUDONYMS = (
    "Keyed HMAC-SHA256 of internal random ids with the deployment's secret key "
    "(first 16 hex digits, prefixed S- session, D- dyad, T- therapist): stable within "
    "one deployment, unlinkable to names or e-mail addresses without the key."
)


def _col(c: Column) -> dict[str, str]:
    return {"name": c.name, "type": c.type, "description": c.description}


def columns(subscales: list[str]) -> dict[str, list[dict[str, str]]]:
    """Every column of each export shape, described (the list is columns.py's)."""
    return {
        "wide": [_col(c) for c in export_columns.wide(subscales)],
        "long": [_col(c) for c in export_columns.long(subscales)],
        "dyadic": [_col(c) for c in export_columns.dyadic()],
    }


def _range(items: list[Any], scoring: str) -> list[float] | None:
    if not items:
        return None
    if scoring == "mean":
        return [min(i.min for i in items), max(i.max for i in items)]
    return [sum(i.min for i in items), sum(i.max for i in items)]


def describe_instrument(form: Any) -> dict[str, Any]:
    """Structure of one form (never its items' text)."""
    counted = [
        i
        for i in form.items
        if any(s.id == i.subscale and s.in_total for s in form.subscales)
    ]
    return {
        "id": form.id,
        "version": form.version,
        "title": form.title,
        "perspective": form.perspective,
        "scoring": form.scoring,
        "item_scale": [form.scale.min, form.scale.max],
        "n_items": len(form.items),
        "total_range": _range(counted, form.scoring),
        "validated": form.validated,
        "licence": form.licence,
        "subscales": [
            {
                "id": s.id,
                "label": s.label,
                "in_total": s.in_total,
                "range": _range(list(form.items_in(s.id)), form.scoring),
            }
            for s in form.subscales
        ],
    }


def _instruments(
    rows: list[PairRow], settings: ResearchSettings
) -> list[dict[str, Any]]:
    forms = sorted(
        {
            (c[f"{p}_id"], c[f"{p}_version"])
            for c in instruments_in(rows)
            for p in ("client", "therapist")
        }
    )
    return [_describe(settings, form_id, version) for form_id, version in forms]


def _describe(settings: ResearchSettings, form_id: str, version: str) -> dict[str, Any]:
    from ratings import InstrumentNotFound

    if settings.registry is not None:
        try:
            return describe_instrument(settings.registry.get(form_id, version))
        except InstrumentNotFound:
            pass
    return {"id": form_id, "version": version, "missing": "definition not found"}


def codebook(rows: list[PairRow], settings: ResearchSettings) -> dict[str, Any]:
    return {
        "consent_version": settings.consent_version,
        "pseudonyms": PSEUDONYMS,
        "difference": "client − therapist",
        "files": columns(subscale_names(rows)),
        "instruments": _instruments(rows, settings),
    }


def codebook_markdown(book: dict[str, Any]) -> str:
    """The codebook as Markdown (written by `teletherapy export`)."""
    lines = [
        "# Codebook of the research export",
        "",
        f"Consent text version {book['consent_version']}. Differences are "
        f"{book['difference']}. Pseudonyms: {book['pseudonyms']}",
        "",
    ]
    for shape, title in (
        ("wide", "one row per rated session"),
        ("long", "one row per rating"),
        ("dyadic", "one row per session: centred, lagged and outcome columns"),
    ):
        lines += [
            f"## {shape}.csv ({title})",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        lines += [
            f"| `{c['name']}` | {c['type']} | {c['description']} |"
            for c in book["files"][shape]
        ]
        lines.append("")
    lines += ["## Instruments", ""]
    for form in book["instruments"]:
        lines += _instrument_markdown(form)
    return "\n".join(lines)


def _span(pair: list[float] | None) -> str:
    return f"{pair[0]}–{pair[1]}" if pair else "—"


def _instrument_markdown(form: dict[str, Any]) -> list[str]:
    if "missing" in form:
        return [f"- `{form['id']}` {form['version']}: {form['missing']}", ""]
    lines = [
        f"### `{form['id']}` version {form['version']} ({form['perspective']})",
        "",
        f"{form['title']}. {form['n_items']} items scored {_span(form['item_scale'])}; "
        f"scoring: {form['scoring']}; total {_span(form['total_range'])}. Validated: "
        f"{'yes' if form['validated'] else 'no'}. Licence: {form['licence']}",
        "",
        "| subscale | label | in the total | range |",
        "|---|---|---|---|",
    ]
    for sub in form["subscales"]:
        in_total = "yes" if sub["in_total"] else "no"
        lines.append(
            f"| `{sub['id']}` | {sub['label']} | {in_total} | {_span(sub['range'])} |"
        )
    return [*lines, ""]
