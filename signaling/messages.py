"""Payload validation and acknowledgement shapes for the ``/rtc`` namespace.

Every model is strict (no coercion: ``"3"`` is not a number, ``true`` is not 1)
and forbids unknown fields. Error messages name the field, what was expected and
the JSON type that came, never the value (an SDP or a chat text stays private).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

Ack = dict[str, Any]

SDP_MAX_BYTES = 16 * 1024
CHAT_MAX_CHARS = 4000
SESSION_ID_MAX = 128
_MAX_REPORTED_ERRORS = 3
# anchored: pydantic's pattern check searches, it does not fullmatch
_UUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_FIELD_NAME = re.compile(r"[A-Za-z0-9_]{1,40}")
# what ``quality`` and ``media_mode`` both carry, in the contract's order
MEASURES = ("rtt_ms", "jitter_ms", "packet_loss_pct", "bitrate_kbps")


class SignalingError(Exception):
    """A refusal that goes back in the ack as ``{"code", "message"}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def ok(**fields: Any) -> Ack:
    """A successful acknowledgement."""
    return {"ok": True, **fields}


def error(code: str, message: str) -> Ack:
    """A failed acknowledgement."""
    return {"ok": False, "error": {"code": code, "message": message}}


def _sdp_size(value: str) -> str:
    if len(value.encode("utf-8", "surrogatepass")) > SDP_MAX_BYTES:
        raise PydanticCustomError(
            "too_large", "SDP must be at most {limit} bytes", {"limit": SDP_MAX_BYTES}
        )
    return value


def _lower(value: str) -> str:
    return value.lower()


SessionId = Annotated[str, StringConstraints(min_length=1, max_length=SESSION_ID_MAX)]
Sdp = Annotated[str, AfterValidator(_sdp_size)]
ShortText = Annotated[str, StringConstraints(max_length=256)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
ClientMsgId = Annotated[
    str, StringConstraints(pattern=_UUID.pattern), AfterValidator(_lower)
]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class SessionRef(_Strict):
    """``join``, ``end`` and ``leave``: ``{"session_id"}``."""

    session_id: SessionId


class Description(_Strict):
    """An RTCSessionDescriptionInit."""

    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: Sdp


class Candidate(_Strict):
    """An RTCIceCandidateInit (browser ``candidate.toJSON()``)."""

    candidate: Annotated[str, StringConstraints(max_length=4096)]
    sdpMid: ShortText | None = None
    sdpMLineIndex: Annotated[int, Field(ge=0, le=65535)] | None = None
    usernameFragment: ShortText | None = None


class SignalMessage(_Strict):
    """``signal``: exactly one of ``description`` or ``candidate`` (maybe null)."""

    session_id: SessionId
    description: Description | None = None
    candidate: Candidate | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SignalMessage:
        given = {"description", "candidate"} & self.model_fields_set
        if len(given) != 1:
            raise PydanticCustomError(
                "one_of", "expected exactly one of 'description' or 'candidate'"
            )
        if "description" in given and self.description is None:
            raise PydanticCustomError("one_of", "'description' must be an object")
        return self

    def relay(self, sender_id: str) -> dict[str, Any]:
        """The payload the other participant receives."""
        if "description" in self.model_fields_set and self.description is not None:
            return {"from": sender_id, "description": self.description.model_dump()}
        body = None if self.candidate is None else self.candidate.model_dump()
        return {"from": sender_id, "candidate": body}


class ChatMessage(_Strict):
    """``chat``: text is stored verbatim; the id is a UUID (lowercased)."""

    session_id: SessionId
    text: Annotated[str, StringConstraints(min_length=1, max_length=CHAT_MAX_CHARS)]
    client_msg_id: ClientMsgId


class _Measures(_Strict):
    """The connection's numbers: finite, non-negative; loss is a percentage."""

    session_id: SessionId
    rtt_ms: NonNegative
    jitter_ms: NonNegative
    packet_loss_pct: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
    bitrate_kbps: NonNegative

    def sample(self) -> dict[str, float]:
        """The measured values, without the session id."""
        return {name: getattr(self, name) for name in MEASURES}


class QualityMessage(_Measures):
    """``quality``: one sample; ``frames_dropped`` may be left out."""

    frames_dropped: NonNegative | None = None

    @field_validator("frames_dropped", mode="before")
    @classmethod
    def _absent_not_null(cls, value: object) -> object:
        if value is None:  # optional means "leave it out", not null
            raise PydanticCustomError("float_type", "Input should be a valid number")
        return value

    def sample(self) -> dict[str, float]:
        """The measured values, without the session id."""
        return self.model_dump(exclude={"session_id"}, exclude_none=True)


SwitchReason = Literal["low_bandwidth", "user"]


class MediaModeMessage(_Measures):
    """``media_mode``: the call switched to audio only (or back), with the
    connection's numbers at that moment; ``reason`` says who decided."""

    audio_only: bool
    reason: SwitchReason

    def relay(self, sender_id: str) -> dict[str, Any]:
        """The payload the other participant(s) receive: no numbers."""
        return {"from": sender_id, "audio_only": self.audio_only, "reason": self.reason}


M = TypeVar("M", bound=BaseModel)


def single_payload(args: tuple[object, ...]) -> object:
    """The one payload argument of an event."""
    if len(args) != 1:
        raise SignalingError(
            "invalid", f"expected one payload object (got {len(args)} arguments)"
        )
    return args[0]


def session_of(payload: object) -> str:
    """The ``session_id`` of a payload, checked before anything else."""
    if not isinstance(payload, dict):
        raise SignalingError(
            "invalid", f"payload: expected an object (got {json_type(payload)})"
        )
    session_id = payload.get("session_id")
    if not isinstance(session_id, str) or not 0 < len(session_id) <= SESSION_ID_MAX:
        raise SignalingError(
            "invalid",
            f"session_id: expected a string of 1..{SESSION_ID_MAX} characters "
            f"(got {json_type(session_id, 'session_id' in payload)})",
        )
    return session_id


def parse(model: type[M], payload: object) -> M:
    """Validate ``payload`` against ``model`` or raise ``invalid``/``too_large``."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise _as_signaling_error(exc) from None


def _as_signaling_error(exc: ValidationError) -> SignalingError:
    errors = exc.errors(include_url=False, include_context=False)
    if any(err["type"] == "too_large" for err in errors):
        return SignalingError("too_large", f"SDP exceeds {SDP_MAX_BYTES} bytes")
    parts = [_describe(err) for err in errors[:_MAX_REPORTED_ERRORS]]
    if len(errors) > _MAX_REPORTED_ERRORS:
        parts.append(f"and {len(errors) - _MAX_REPORTED_ERRORS} more")
    return SignalingError("invalid", "; ".join(parts))


def _describe(err: Any) -> str:
    where = ".".join(_safe_name(part) for part in err["loc"]) or "payload"
    kind = err["type"]
    if kind == "missing":
        return f"{where}: field required (got nothing)"
    if kind == "extra_forbidden":
        return f"{where}: unexpected field"
    return f"{where}: {err['msg']} (got {json_type(err.get('input'))})"


def _safe_name(part: object) -> str:
    text = str(part)
    return text if _FIELD_NAME.fullmatch(text) else "<field>"


def json_type(value: object, present: bool = True) -> str:
    """The JSON type name of a value, for error messages."""
    if not present:
        return "nothing"
    names: list[tuple[type | tuple[type, ...], str]] = [
        (type(None), "null"),
        (bool, "boolean"),
        (int, "integer"),
        (float, "number"),
        (str, "string"),
        ((list, tuple), "array"),
        (dict, "object"),
    ]
    for kinds, name in names:
        if isinstance(value, kinds):
            return name
    return "unknown"
