from flask import Blueprint

bp = Blueprint("consent", __name__)

from . import views  # noqa: E402,F401
