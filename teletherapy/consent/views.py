"""Research consent for clients and therapists: read the text, give or withdraw."""

from flask import current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from jinja2 import TemplateNotFound

from .. import web_auth
from ..config import settings
from ..extensions import db
from ..services import consent
from ..services.errors import Invalid
from . import bp
from .forms import ConsentForm

THANKS = "Thank you. Your ratings can now be used for research, under a code number."
WITHDRAWN = (
    "You have withdrawn. Your ratings leave every research analysis and export "
    "from now on."
)


def text_template(version: str) -> str | None:
    """The template holding this version's text, or None when none is installed."""
    name = f"consent/text-{version}.html"
    try:
        current_app.jinja_env.get_template(name)
    except TemplateNotFound:
        return None
    return name


@bp.get("/consent")
def index() -> ResponseReturnValue:
    state = consent.status(db.session(), current_user, settings())
    return render_template(
        "consent/index.html",
        state=state,
        text=text_template(state.current_version),
        form=ConsentForm(),
    )


@bp.post("/consent")
def update() -> ResponseReturnValue:
    form = ConsentForm()
    if not form.validate_on_submit():
        flash(
            "The form expired or was incomplete; nothing changed. Please try again.",
            "error",
        )
        return redirect(url_for(".index"), 303)
    give = form.decision.data == "give"
    try:
        consent.decide(
            db.session(),
            current_user,
            give,
            form.version.data,
            settings(),
            origin=web_auth.origin(),
        )
    except Invalid:
        flash(
            "The consent text changed while the page was open. Please read it again.",
            "error",
        )
        return redirect(url_for(".index"), 303)
    flash(THANKS if give else WITHDRAWN, "info")
    return redirect(url_for(".index"), 303)
