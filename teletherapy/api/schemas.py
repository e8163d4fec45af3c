"""Request and response schemas: the same pydantic models validate requests, build
responses (``model_dump(mode="json")``, teletherapy/api/serialize.py) and document
both (teletherapy/api/docs.py)."""

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

from ..times import utc_iso

# A response's timestamp: validated as an aware datetime, written as ``…Z`` in JSON
# (teletherapy/times.py, api_time); the document shows a date-time string either way.
ApiTime = Annotated[
    AwareDatetime,
    PlainSerializer(lambda v: utc_iso(v, zulu=True), return_type=str, when_used="json"),
]
Perspective = Literal["client", "therapist"]
# Spelled out for the type checker; tests/test_statuses.py holds them to the models'
# MODALITIES and ROLES, so the document cannot drift from what the database accepts.
ModalityName = Literal["video", "audio", "chat", "in_person"]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class TokenRequest(Strict):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    # Accounts with two-factor sign-in: a current code of the authenticator app,
    # or one of the recovery codes (each works once)
    totp_code: str | None = Field(default=None, min_length=6, max_length=32)


class UserOut(BaseModel):
    id: str
    role: Literal["therapist", "client", "researcher", "admin"]
    display_name: str


class TokenOut(BaseModel):
    token: str
    expires_at: ApiTime
    user: UserOut


class MeOut(UserOut):
    email: str
    timezone: str


class SessionCreate(Strict):
    client_id: str = Field(min_length=1, max_length=64)
    modality: ModalityName
    scheduled_start: AwareDatetime
    duration_minutes: int = Field(ge=5, le=240)


class SessionReschedule(Strict):
    scheduled_start: AwareDatetime
    duration_minutes: int | None = Field(default=None, ge=5, le=240)


class SessionOut(BaseModel):
    id: str
    therapist_id: str
    client_id: str
    modality: ModalityName
    scheduled_start: ApiTime
    duration_minutes: int
    status: Literal["scheduled", "live", "ended", "cancelled"]
    started_at: ApiTime | None
    ended_at: ApiTime | None
    join_url: str


class SessionList(BaseModel):
    items: list[SessionOut]
    next: str | None


class MessageOut(BaseModel):
    id: str
    session_id: str
    sender_id: str
    sender_role: Literal["therapist", "client"]
    text: str
    sent_at: ApiTime
    client_msg_id: str
    seq: int


class MessageList(BaseModel):
    items: list[MessageOut]
    next: str | None


# The document's schema of the rating body; services/rating_submission.py reads the body
# itself
# (unknown fields and items against the caller's form, every problem in one 422).
class RatingSubmit(Strict):
    answers: dict[str, int] = Field(
        description="item id → JSON integer within the item's range"
    )
    meta_answers: dict[str, int] | None = Field(
        default=None,
        description="therapist only: the optional meta-perception items",
    )


class ScoresOut(BaseModel):
    total: float | None
    subscales: dict[str, float | None]


class RatingOut(BaseModel):
    id: str
    perspective: Perspective
    instrument_id: str
    instrument_version: str
    answers: dict[str, int]
    meta_answers: dict[str, int] | None
    scores: ScoresOut
    submitted_at: ApiTime


class RatingCreated(BaseModel):
    rating: RatingOut


class ItemOut(BaseModel):
    id: str
    text: str
    subscale: str
    min: int
    max: int
    anchors: dict[str, str]
    optional: bool


class SubscaleOut(BaseModel):
    id: str
    label: str
    in_total: bool


class InstrumentOut(BaseModel):
    id: str
    version: str
    title: str
    perspective: Perspective
    subscales: list[SubscaleOut]
    items: list[ItemOut]


class RevealedScores(BaseModel):
    perspective: Literal["client"]
    total: float | None
    subscales: dict[str, float | None]


class RatingFormOut(BaseModel):
    status: Literal["pending", "submitted", "closed"]
    perspective: Perspective
    instrument: InstrumentOut | None
    meta_instrument: InstrumentOut | None
    closes_at: ApiTime
    submitted_at: ApiTime | None
    rating: RatingOut | None
    revealed_scores: RevealedScores | None
    visibility: str
    rating_url: str


class PendingOut(BaseModel):
    session_id: str
    perspective: Perspective
    modality: ModalityName
    ended_at: ApiTime
    closes_at: ApiTime
    rating_url: str


class PendingList(BaseModel):
    items: list[PendingOut]
    next: str | None


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, str] | None = None


class ErrorOut(BaseModel):
    error: ErrorBody
