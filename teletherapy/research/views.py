"""Researchers' pages: the dashboard, its plots, CSV downloads and the codebook."""

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ratings.pairs import records_frame

from .. import web_auth
from ..extensions import db
from ..services import audit
from ..services.errors import Invalid, NotFound
from . import analysis as research_analysis
from . import export as research_export
from .cells import SmallCell
from .filters import parse_filters
from .present import helpers
from .rows import pair_rows
from .settings import current as settings

bp = Blueprint("research", __name__, url_prefix="/research")
OUTCOME_PLOT = "outcome"  # ratings.plots.OUTCOME_KIND, without importing matplotlib


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return helpers()


@bp.get("/")
def index() -> ResponseReturnValue:
    try:
        filters = parse_filters(request.args)
    except Invalid as exc:
        options = research_analysis.filter_options(db.session(), settings())
        page = render_template(
            "research/index.html",
            data=None,
            options=options,
            args=request.args,
            errors=exc.details,
        )
        return page, 422
    try:
        data = research_analysis.dashboard(
            db.session(),
            current_user.id,
            filters,
            settings(),
            origin=web_auth.origin(),
        )
    except SmallCell as exc:  # shown in words on the page, nothing computed
        options = research_analysis.filter_options(db.session(), settings())
        page = render_template(
            "research/index.html",
            data=None,
            options=options,
            args=filters.as_args(),
            errors=exc.details,
            small_cell=exc.message,
        )
        return page, 422
    return render_template(
        "research/index.html",
        data=data,
        options=data.options,
        args=filters.as_args(),
        errors={},
    )


@bp.get("/plots/<kind>.<fmt>")
def plot(kind: str, fmt: str) -> ResponseReturnValue:
    if kind == OUTCOME_PLOT:
        return _outcome_plot(fmt)
    mimetype = research_analysis.plot_mimetype(kind, fmt)  # 404 before 422
    filters = parse_filters(request.args)
    body = research_analysis.plot(
        db.session(),
        current_user.id,
        filters,
        settings(),
        kind,
        fmt,
        origin=web_auth.origin(),
    )
    return Response(body, mimetype=mimetype)


def _outcome_plot(fmt: str) -> ResponseReturnValue:
    """The outcome figure (ratings.plots.outcome_figure), audited like the others."""
    from ratings import plots

    if fmt not in research_analysis.PLOT_FORMATS:
        raise NotFound("no such plot")  # 404 before any filter is checked
    filters = parse_filters(request.args)
    rows = pair_rows(db.session(), filters, settings())  # refuses small cells
    audit.record(
        db.session(),
        "research.plot",
        current_user.id,
        "research",
        None,
        origin=web_auth.origin(),
        **filters.as_args(),
        kind=OUTCOME_PLOT,
        n_pairs=len(rows),
    )
    db.session().commit()
    fig = plots.figure(OUTCOME_PLOT, records_frame(research_analysis.records(rows)))
    body = plots.to_svg(fig).encode("utf-8") if fmt == "svg" else plots.to_png(fig)
    return Response(body, mimetype=research_analysis.PLOT_FORMATS[fmt])


@bp.get("/export.csv")
def export() -> ResponseReturnValue:
    filters = parse_filters(request.args, extra=("shape",))
    shape = research_export.parse_shape(request.args.get("shape"))
    body = research_export.export_csv(
        db.session(),
        current_user.id,
        filters,
        settings(),
        shape,
        origin=web_auth.origin(),
    )
    headers = {"Content-Disposition": f"attachment; filename=research-{shape}.csv"}
    return Response(body, mimetype="text/csv", headers=headers)


@bp.get("/codebook")
def codebook() -> ResponseReturnValue:
    book = research_export.codebook_for(db.session(), settings())
    return render_template("research/codebook.html", book=book)
