from flask import Blueprint

bp = Blueprint("rating_forms", __name__)

from . import views  # noqa: E402,F401
