"""Researchers' pages: the dashboard, its plots, CSV downloads and the codebook."""

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import web_auth
from ..extensions import db
from ..services.errors import Invalid
from . import analysis as research_analysis
from . import export as research_export
from .filters import parse_filters
from .present import helpers
from .settings import current as settings

bp = Blueprint("research", __name__, url_prefix="/research")


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
    data = research_analysis.dashboard(
        db.session(),
        current_user.id,
        filters,
        settings(),
        origin=web_auth.origin(),
    )
    return render_template(
        "research/index.html",
        data=data,
        options=data.options,
        args=filters.as_args(),
        errors={},
    )


@bp.get("/plots/<kind>.<fmt>")
def plot(kind: str, fmt: str) -> ResponseReturnValue:
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
