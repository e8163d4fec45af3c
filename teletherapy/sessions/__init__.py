from flask import Blueprint

bp = Blueprint("sessions", __name__, url_prefix="/sessions")

from . import views  # noqa: E402,F401
