from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import idle, invite, views  # noqa: E402,F401
