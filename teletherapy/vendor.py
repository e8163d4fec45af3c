"""Browser libraries installed from the npm registry (package.json), served by the app."""

from flask import Blueprint, abort, send_from_directory
from flask.typing import ResponseReturnValue

from .paths import SOCKET_IO_CLIENT

bp = Blueprint("vendor", __name__, url_prefix="/vendor")

# names served (the files of socket.io-client/dist that pages load)
FILES = frozenset({"socket.io.esm.min.js", "socket.io.esm.min.js.map"})


@bp.get("/<name>")
def asset(name: str) -> ResponseReturnValue:
    if name not in FILES:
        abort(404)
    return send_from_directory(SOCKET_IO_CLIENT, name, max_age=3600)
