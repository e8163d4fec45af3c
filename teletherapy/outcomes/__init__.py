"""Outcome questionnaires before sessions, the safety flag, the therapist's client page
(docs/outcomes.md)."""

from flask import Blueprint

bp = Blueprint("outcomes", __name__)

from . import views  # noqa: E402,F401
