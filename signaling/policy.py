"""What signaling asks the application, and the answers it expects.

Signaling never touches the database. Every decision that needs stored state goes
through one injected object that satisfies :class:`Policy`; the application
implements it against its models, the tests with a fake.

The protocol, in full::

    class Policy(Protocol):
        def identify(self, auth: Mapping[str, object] | None) -> Principal | None
        def is_active(self, principal: Principal) -> bool
        def check_credential(self, principal: Principal) -> Denied | None
        def allows(self, principal: Principal, event: str) -> bool
        def can_join(self, principal: Principal, session_id: str)
            -> JoinGrant | Denied
        def mark_live(self, session_id: str) -> None
        def chat_history(self, principal: Principal, session_id: str)
            -> list[dict[str, Any]]
        def record_chat(self, principal: Principal, session_id: str,
                        text: str, client_msg_id: str) -> ChatResult | Denied
        def record_quality(self, principal: Principal, session_id: str,
                           sample: Mapping[str, float | int]) -> Denied | None
        def record_media_mode(self, principal: Principal, session_id: str,
                              audio_only: bool, reason: str,
                              sample: Mapping[str, float | int]) -> Denied | None
        def end_session(self, principal: Principal, session_id: str)
            -> Mapping[str, str] | Denied
        def ice_servers(self, principal: Principal) -> list[dict[str, Any]]

Rules an implementation must keep:

- ``identify`` runs inside the connect handler's request context, so it may read
  the login cookie (flask-login's ``current_user``) or ``auth["token"]``. ``auth``
  is the Socket.IO auth object when the client sent a JSON object, else ``None``.
  Return ``None`` for missing, forged, expired or revoked credentials. The
  :class:`Principal` names the credential that opened the socket and when it
  lapses: the hub closes the socket at ``expires_at`` (``session_expired``), and
  :func:`signaling.disconnect_credential` closes it on revocation.
- ``check_credential`` answers ``None`` while that credential still holds (it
  runs on ``join`` and ``end``, after signaling's own ``expires_at`` check, which
  answers ``session_expired``), ``Denied("signed_out")`` once it was revoked or
  replaced; signaling then closes every socket that credential opened.
- Contexts: ``identify``, ``is_active``, ``check_credential``, ``can_join``,
  ``chat_history``, ``ice_servers``, ``mark_live`` and ``end_session`` (the
  ``connect``, ``join`` and ``end`` events) run in a request context built from the socket's
  handshake; ``record_chat``, ``record_quality`` and ``record_media_mode`` run
  in an application context only, and ``allows`` may run with no Flask context
  at all (it is asked on every event, ``signal`` included).
- ``record_chat``, ``record_quality`` and ``record_media_mode`` check that the
  account is still active, in the same transaction as the write, and answer
  ``Denied("unauthenticated")`` if not (signaling then closes the user's
  sockets); for ``record_quality`` and ``record_media_mode``, ``None`` means
  stored.
- ``record_media_mode`` stores a switch of the call to audio only
  (``audio_only`` true) or back, ``reason`` ``"low_bandwidth"`` (the page
  offered it, the person accepted) or ``"user"``, with the connection's
  numbers at that moment (``rtt_ms``, ``jitter_ms``, ``packet_loss_pct``,
  ``bitrate_kbps``), beside the quality samples; signaling relays it only once
  it is stored.
- ``can_join`` answers ``Denied("not_found")`` both for unknown sessions and for
  sessions the caller is not a participant of (never leak existence), and
  ``Denied("session_closed")`` for ended or cancelled sessions.
- ``mark_live`` is idempotent: signaling calls it once per process the first time
  both participants are present, and again after a restart if the grant's status
  is still ``scheduled``.
- ``record_chat`` is idempotent on ``(session, sender, client_msg_id)`` (a UNIQUE
  constraint in the database); ``created`` is ``False`` when the message existed.
- ``end_session`` returns each participant's rating URL keyed by user id, or
  ``Denied("forbidden")`` for callers who may not end it, or
  ``Denied("session_closed")`` when it has already ended.
- Methods other than ``identify`` may raise; signaling logs the exception type
  and answers ``internal``. ``Denied`` codes and messages reach the client
  verbatim, so they must not carry record contents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

SessionRole = Literal["therapist", "client"]


@dataclass(frozen=True)
class Principal:
    """An authenticated user; ``role`` is the platform role (therapist, client…).

    ``credential`` names what opened the socket (an API token, a cookie login),
    an opaque string that :func:`signaling.disconnect_credential` takes;
    ``expires_at`` (UNIX seconds) is when that credential lapses, ``None`` never.
    """

    user_id: str
    role: str
    credential: str = ""
    expires_at: float | None = None


@dataclass(frozen=True)
class Participant:
    """One of the two people of a session, with their role in it."""

    user_id: str
    role: SessionRole


@dataclass(frozen=True)
class JoinGrant:
    """Permission to join: the caller's role in the session and who takes part."""

    session_id: str
    role: SessionRole
    modality: str
    participants: tuple[Participant, ...]
    status: str = "scheduled"


@dataclass(frozen=True)
class Denied:
    """A refusal with a stable error code; ``message`` is shown to the client."""

    code: str
    message: str = ""


@dataclass(frozen=True)
class ChatResult:
    """The stored chat message (contract shape) and whether this call created it."""

    message: dict[str, Any]
    created: bool


class Policy(Protocol):
    """Everything signaling needs to know from the application."""

    def identify(self, auth: Mapping[str, object] | None) -> Principal | None:
        """The connecting user, or ``None`` when the credentials are not valid."""
        ...

    def is_active(self, principal: Principal) -> bool:
        """Whether the account may still act (re-checked on DB-backed events)."""
        ...

    def check_credential(self, principal: Principal) -> Denied | None:
        """``None`` while the credential that opened the socket holds; else
        ``Denied("signed_out")`` (revoked, ended). Signaling refuses a credential
        past its ``expires_at`` (``session_expired``) before asking."""
        ...

    def allows(self, principal: Principal, event: str) -> bool:
        """Whether the principal's role may send ``event`` at all (the app's policy
        table; answered from memory, it runs on every event)."""
        ...

    def can_join(self, principal: Principal, session_id: str) -> JoinGrant | Denied:
        """Grant or refuse joining ``session_id``."""
        ...

    def mark_live(self, session_id: str) -> None:
        """Record that both participants are in (status ``live``, ``started_at``)."""
        ...

    def chat_history(
        self, principal: Principal, session_id: str
    ) -> list[dict[str, Any]]:
        """The session's chat messages in ``seq`` order, for the join ack."""
        ...

    def record_chat(
        self, principal: Principal, session_id: str, text: str, client_msg_id: str
    ) -> ChatResult | Denied:
        """Store a chat message once per ``client_msg_id``."""
        ...

    def record_quality(
        self,
        principal: Principal,
        session_id: str,
        sample: Mapping[str, float | int],
    ) -> Denied | None:
        """Store one quality sample if the account is active (else ``Denied``)."""
        ...

    def record_media_mode(
        self,
        principal: Principal,
        session_id: str,
        audio_only: bool,
        reason: str,
        sample: Mapping[str, float | int],
    ) -> Denied | None:
        """Store a switch to audio only (or back) with the connection's numbers
        at that moment, if the account is active (else ``Denied``)."""
        ...

    def end_session(
        self, principal: Principal, session_id: str
    ) -> Mapping[str, str] | Denied:
        """End the session; rating URL per participant's user id."""
        ...

    def ice_servers(self, principal: Principal) -> list[dict[str, Any]]:
        """RTCIceServer dictionaries (with fresh TURN credentials) for the caller."""
        ...
