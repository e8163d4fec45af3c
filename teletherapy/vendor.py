"""Browser libraries installed from the npm registry (package.json), served by the app."""

from flask import Blueprint, abort, send_from_directory
from flask.typing import ResponseReturnValue

from .config import ROOT

bp = Blueprint("vendor", __name__, url_prefix="/vendor")

# name served → (folder under node_modules, file)
FILES = {
    "socket.io.esm.min.js": ("socket.io-client/dist", "socket.io.esm.min.js"),
    "socket.io.esm.min.js.map": ("socket.io-client/dist", "socket.io.esm.min.js.map"),
}


@bp.get("/<name>")
def asset(name: str) -> ResponseReturnValue:
    if name not in FILES:
        abort(404)
    folder, filename = FILES[name]
    return send_from_directory(ROOT / "node_modules" / folder, filename, max_age=3600)
