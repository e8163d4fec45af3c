"""Request and response schemas: the same pydantic models validate and document."""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class TokenRequest(Strict):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    id: str
    role: Literal["therapist", "client", "researcher", "admin"]
    display_name: str


class TokenOut(BaseModel):
    token: str
    expires_at: AwareDatetime
    user: UserOut


class MeOut(UserOut):
    email: str
    timezone: str


class SessionCreate(Strict):
    client_id: str = Field(min_length=1, max_length=64)
    modality: Literal["video", "audio", "chat", "in_person"]
    scheduled_start: AwareDatetime
    duration_minutes: int = Field(ge=5, le=240)


class SessionOut(BaseModel):
    id: str
    therapist_id: str
    client_id: str
    modality: Literal["video", "audio", "chat", "in_person"]
    scheduled_start: AwareDatetime
    duration_minutes: int
    status: Literal["scheduled", "live", "ended", "cancelled"]
    started_at: AwareDatetime | None
    ended_at: AwareDatetime | None
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
    sent_at: AwareDatetime
    client_msg_id: str
    seq: int


class MessageList(BaseModel):
    items: list[MessageOut]
    next: str | None


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, str] | None = None


class ErrorOut(BaseModel):
    error: ErrorBody
