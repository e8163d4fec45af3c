"""One dashboard per role."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import SelectChoice

from ..auth.invite import InviteClientForm, ttl_words
from ..config import settings
from ..extensions import db
from ..models import SessionStatus, TherapySession
from ..services import accounts, invitations, rating_submission, scheduling
from ..sessions.forms import ScheduleForm
from ..sessions.views import waiting_room
from . import bp


@bp.get("/")
def index() -> ResponseReturnValue:
    target = {"admin": "admin.index"}.get(
        current_user.role, f"dashboard.{current_user.role}"
    )
    return redirect(url_for(target))


def _split(
    rows: Iterable[TherapySession],
) -> tuple[list[TherapySession], list[TherapySession]]:
    """Upcoming (scheduled or live, soonest first) and past (newest first)."""
    upcoming = sorted(
        (s for s in rows if s.status in (SessionStatus.SCHEDULED, SessionStatus.LIVE)),
        key=lambda s: s.scheduled_start,
    )
    past = [
        s for s in rows if s.status in (SessionStatus.ENDED, SessionStatus.CANCELLED)
    ]
    return upcoming, past


def _ratings() -> dict[str, Any]:
    """Ratings still to give (with links) and the latest given; never any scores."""
    return {
        "ratings_due": rating_submission.pending_for(
            db.session(), current_user, settings()
        ),
        "rated": rating_submission.recently_rated(db.session(), current_user),
    }


@bp.get("/therapist")
def therapist() -> ResponseReturnValue:
    clients = accounts.caseload(db.session(), current_user.id)
    form = ScheduleForm()
    form.client_id.choices = [SelectChoice(c.id, c.display_name) for c in clients]
    upcoming, past = _split(scheduling.list_for(db.session(), current_user, limit=200))
    return render_template(
        "dashboard/therapist.html",
        waiting=set(waiting_room(upcoming)),
        clients=clients,
        form=form,
        upcoming=upcoming,
        past=past,
        now=datetime.now(UTC),
        invite_form=InviteClientForm(),
        invite_ttl=ttl_words(),
        invitations=invitations.listing(
            db.session(), current_user, states=("pending", "expired")
        ),
        **_ratings(),
    )


@bp.get("/client")
def client() -> ResponseReturnValue:
    upcoming, past = _split(scheduling.list_for(db.session(), current_user, limit=200))
    return render_template(
        "dashboard/client.html", upcoming=upcoming, past=past, **_ratings()
    )


@bp.get("/researcher")
def researcher() -> ResponseReturnValue:
    return render_template("dashboard/researcher.html")
