"""/api/v1/me/consent: a client's or therapist's research consent, on the api blueprint.

The functions keep the endpoint names ``api.consent_detail`` and
``api.consent_update`` (teletherapy/access.py).
"""

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from pydantic import AwareDatetime, BaseModel, Field

from .. import web_auth
from ..api import bp, caller, parse
from ..api.docs import route
from ..api.schemas import Strict
from ..config import settings
from ..extensions import db
from ..services import consent
from ..services.consent import ConsentStatus
from ..times import api_time


class ConsentUpdate(Strict):
    research: bool = Field(description="true gives consent, false withdraws it")
    version: str | None = Field(
        default=None,
        max_length=32,
        description="the consent text version agreed to; required when research is "
        "true and must be the current one",
    )


class ConsentOut(BaseModel):
    research: bool
    version: str = Field(
        description="the version agreed to while research is true, else the current "
        "text's version (the one to send with research true)"
    )
    current_version: str
    up_to_date: bool
    given_at: AwareDatetime | None
    withdrawn_at: AwareDatetime | None


def consent_out(s: ConsentStatus) -> dict[str, Any]:
    return {
        "research": s.research,
        "version": s.version or s.current_version,
        "current_version": s.current_version,
        "up_to_date": s.up_to_date,
        "given_at": api_time(s.given_at),
        "withdrawn_at": api_time(s.withdrawn_at),
    }


@route(
    bp,
    "GET",
    "/me/consent",
    summary="Your research consent (clients and therapists)",
    response=ConsentOut,
    errors=(403,),
)
def consent_detail() -> ResponseReturnValue:
    return jsonify(consent_out(consent.status(db.session(), caller(), settings())))


@route(
    bp,
    "PUT",
    "/me/consent",
    summary="Give (research true, current version) or withdraw research consent",
    body=ConsentUpdate,
    response=ConsentOut,
    errors=(400, 403, 422),
)
def consent_update() -> ResponseReturnValue:
    user = caller()
    body = parse(ConsentUpdate)
    state = consent.decide(
        db.session(),
        user,
        body.research,
        body.version,
        settings(),
        origin=web_auth.origin(),
    )
    return jsonify(consent_out(state))
