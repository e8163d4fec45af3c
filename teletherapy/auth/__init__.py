from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import idle, invite, two_factor, views  # noqa: E402,F401
