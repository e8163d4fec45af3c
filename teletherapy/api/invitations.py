"""/api/v1/invitations: invite someone (administrators: any role; therapists:
clients, into their own caseload) and withdraw an invitation. Responses never
carry the link's token: it exists only in the invitation mail."""

from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from flask.typing import ResponseReturnValue
from pydantic import AfterValidator, BaseModel, Field

from .. import mailer, web_auth
from ..auth.invite import composer, ttl_hours
from ..extensions import db
from ..services import invitations
from . import bp, caller, parse, serialize
from .docs import route
from .schemas import ApiTime, Strict

RoleName = Literal["therapist", "client", "researcher", "admin"]


def _address(value: str) -> str:
    """An e-mail address's syntax, checked with the other fields (one 422 names
    every bad field); the service normalizes it."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return value


Address = Annotated[str, AfterValidator(_address)]


class InvitationCreate(Strict):
    role: RoleName
    email: Address = Field(min_length=3, max_length=254)
    display_name: str = Field(min_length=1, max_length=120)
    therapist_id: str | None = Field(
        default=None,
        max_length=64,
        description="administrators only: the therapist whose caseload an invited "
        "client joins (a therapist's invitations always go to their own)",
    )


class InvitationOut(BaseModel):
    id: str
    email: str
    role: RoleName
    expires_at: ApiTime


@route(
    bp,
    "POST",
    "/invitations",
    summary="Invite someone by e-mail (admin: any role; therapist: a client)",
    body=InvitationCreate,
    response=InvitationOut,
    status=201,
    errors=(400, 403, 409, 422),
)
def invitation_create() -> ResponseReturnValue:
    body = parse(InvitationCreate)
    user = caller()
    row = invitations.create(
        db.session(),
        email=body.email,
        display_name=body.display_name,
        role=body.role,
        inviter=user,
        therapist_id=body.therapist_id,
        ttl_hours=ttl_hours(),
        compose=composer(user.display_name),
        origin=web_auth.origin(),
    )
    mailer.kick()
    out = InvitationOut.model_validate(
        {
            "id": row.id,
            "email": row.email,
            "role": row.role,
            "expires_at": row.expires_at,
        }
    )
    return serialize.json(out), 201


@route(
    bp,
    "DELETE",
    "/invitations/<invitation_id>",
    summary="Withdraw an invitation (its link stops working)",
    status=204,
    errors=(403, 404, 409),
)
def invitation_delete(invitation_id: str) -> ResponseReturnValue:
    invitations.revoke(db.session(), caller(), invitation_id, origin=web_auth.origin())
    return "", 204
