"""The idle sign-out's clock for the page's warning (static/js/idle.js).

Every signed-in page carries how long its login has left (``idle_clock`` in
templates/base.html); ``GET /session/remaining`` tells the same later without
counting as activity (web_auth.PASSIVE_ENDPOINTS), so a page can ask, before it
warns, whether another tab has been in use meanwhile.
"""

import math
import time
from typing import Any

from flask import abort, current_app, jsonify, session
from flask.typing import ResponseReturnValue

from .. import web_auth
from . import bp


def clock(now: float | None = None) -> dict[str, int] | None:
    """Whole seconds until the cookie login ends: ``idle`` (SESSION_IDLE_MINUTES
    after the last page or heartbeat), ``limit`` (SESSION_ABSOLUTE_HOURS after
    sign-in), with the configured ``idle_total`` and ``warning``; None outside a
    login. Rounded as web_auth.login_lapse decides: a login ends in the first
    whole second the rule holds."""
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    if not isinstance(login_at, int):
        return None
    if not isinstance(seen_at, int):
        seen_at = login_at
    cfg = current_app.config
    at = int(time.time() if now is None else now)
    idle_total = float(cfg["SESSION_IDLE_MINUTES"]) * 60
    return {
        "idle": max(0, math.ceil(seen_at + idle_total - at)),
        "limit": max(0, web_auth.login_deadline(login_at, cfg) - at),
        "idle_total": math.ceil(idle_total),
        "warning": int(cfg["SESSION_IDLE_WARNING_SECONDS"]),
    }


@bp.app_context_processor
def _idle_clock() -> dict[str, Any]:
    return {"idle_clock": clock}


@bp.get("/session/remaining")
def session_remaining() -> ResponseReturnValue:
    """How long this login has left, in seconds; reading it is not activity.

    A lapsed login never gets here: web_auth.enforce_timeouts signs it out first
    and redirects to the sign-in page with the reason, as for any page."""
    left = clock()
    if left is None:  # enforce_timeouts keeps login_at for every login
        abort(401)
    return jsonify(
        {
            "idle_seconds": left["idle"],
            "limit_seconds": left["limit"],
            "warning_seconds": left["warning"],
        }
    )
