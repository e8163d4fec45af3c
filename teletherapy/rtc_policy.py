"""The application's answers to signaling's questions (signaling.policy.Policy)."""

import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from flask import Flask
from sqlalchemy import Connection, Engine, Table, bindparam, insert, select

import signaling
from signaling.policy import ChatResult, Denied, JoinGrant, Participant, Principal

from . import web_auth
from .access import SOCKET_ACCESS
from .api import serialize
from .extensions import db
from .live import rating_url
from .models import Modality, QualitySample, SessionStatus, TherapySession, User, new_id
from .services import audit, chat, ice, scheduling, tokens
from .services.errors import ServiceError

logger = logging.getLogger("teletherapy.rtc")
SESSION_EXPIRED = "your sign-in reached its time limit; sign in again"
QUALITY_ACK_TIMEOUT_S = 30.0
QUALITY_WRITER_IDLE_S = 5.0
QUALITY_BATCH_MAX = 200  # rows per transaction: the writer's CPU stretches stay short
# A second (third) writer starts while more than a full batch waits: each batch
# waits on a few database round trips, and under load the hub takes a while to
# come back to a greenlet, so one writer alone capped the rate near 1,000/s.
QUALITY_WRITERS = 3
# Once woken, the writer lets more samples arrive before it takes a batch: an ack
# comes up to this much later, a transaction serves many more samples.
QUALITY_BATCH_WINDOW_S = 0.05
# Built once: a statement built per call leaves reference cycles (its bind
# parameters) for the garbage collector, whose full passes stall every socket.
_ACTIVE_SENDERS = select(User.id).where(
    User.id.in_(bindparam("ids", expanding=True)), User.active.is_(True)
)
_INSERT_SAMPLES = insert(cast(Table, QualitySample.__table__))  # a mapped class's table
_CHAT_CHECK = (
    select(
        User.active,
        TherapySession.status,
        TherapySession.therapist_id,
        TherapySession.client_id,
    )
    .outerjoin(TherapySession, TherapySession.id == bindparam("session_id"))
    .where(User.id == bindparam("user_id"))
)


class _Sample:
    """One quality sample waiting for its group commit."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.done = threading.Event()
        self.stored = False
        self.error: BaseException | None = None


class QualityWriter:
    """Group commit for quality samples.

    Every connection sends one every 5 s, so a busy process stores hundreds a
    second; one transaction each (a pool checkout with its ping, BEGIN, the
    account check, INSERT, COMMIT) made them the process's main cost. Here the
    samples that arrive while a transaction is running wait for the next one:
    a writer task checks the senders' accounts, inserts every sample of active
    accounts and commits, then wakes each sender (more writers run only while a
    backlog of more than one batch waits). A sender's ack still
    means "committed" (durable), and a batch that fails is retried row by row so
    one bad row fails alone. Each batch is one Core transaction on a pooled
    connection, returned before the senders wake. The writer exits when idle and
    restarts on demand.
    """

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._cond = threading.Condition()
        self._queue: list[_Sample] = []
        self._writers = 0

    def write(self, row: dict[str, Any]) -> bool:
        """Store ``row`` (durably); ``False`` if the sender's account is inactive."""
        sample = _Sample(row)
        with self._cond:
            self._queue.append(sample)
            backlog = len(self._queue) > QUALITY_BATCH_MAX * self._writers
            if self._writers == 0 or (backlog and self._writers < QUALITY_WRITERS):
                self._writers += 1
                signaling.socketio.start_background_task(self._run)
            else:
                self._cond.notify()
        if not sample.done.wait(QUALITY_ACK_TIMEOUT_S):
            raise TimeoutError("quality sample not committed in time")
        if sample.error is not None:
            raise sample.error
        return sample.stored

    def _run(self) -> None:
        batch: list[_Sample] = []
        try:
            while batch := self._next_batch():
                with _engine(self._app).connect() as conn:
                    self._flush(conn, batch)
                for sample in batch:
                    sample.done.set()
        except Exception as exc:  # boundary: no sender may be left waiting
            logger.error("quality writer failed: %s", type(exc).__name__)
            with self._cond:
                self._writers -= 1
                if self._writers == 0:  # nobody left to take the rest
                    batch += self._queue
                    self._queue = []
            for sample in batch:
                if not sample.done.is_set():
                    sample.error = exc
                    sample.done.set()

    def _next_batch(self) -> list[_Sample]:
        """Up to QUALITY_BATCH_MAX waiting samples; ``[]`` (and the writer ends)
        after QUALITY_WRITER_IDLE_S without any."""
        with self._cond:
            if not self._queue:
                self._cond.wait(QUALITY_WRITER_IDLE_S)
            if not self._queue:
                self._writers -= 1
                return []
            room_left = len(self._queue) < QUALITY_BATCH_MAX
        if room_left:
            signaling.socketio.sleep(QUALITY_BATCH_WINDOW_S)
        with self._cond:
            batch = self._queue[:QUALITY_BATCH_MAX]
            del self._queue[:QUALITY_BATCH_MAX]
        return batch

    def _flush(self, conn: Connection, batch: list[_Sample]) -> None:
        try:
            self._insert(conn, batch)
        except Exception as exc:
            _rollback(conn)
            if len(batch) == 1:
                batch[0].error = exc
            else:  # find the bad row(s); the others are stored alone
                for sample in batch:
                    self._flush(conn, [sample])

    def _insert(self, conn: Connection, batch: list[_Sample]) -> None:
        senders = list({s.row["user_id"] for s in batch})
        active = set(conn.scalars(_ACTIVE_SENDERS, {"ids": senders}))
        rows = [s.row for s in batch if s.row["user_id"] in active]
        if rows:
            conn.execute(_INSERT_SAMPLES, rows)
        conn.commit()
        for sample in batch:
            sample.stored = sample.row["user_id"] in active


def _rollback(conn: Connection) -> None:
    try:
        conn.rollback()
    except Exception:  # a broken connection: the pool replaces it
        logger.warning("quality writer: rollback failed")


def _engine(app: Flask) -> Engine:
    engine = app.extensions["database"].engine
    if not isinstance(engine, Engine):
        raise RuntimeError("the database is not bound (create_app does that)")
    return engine


class RtcPolicy:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.quality = QualityWriter(app)

    def identify(self, auth: Mapping[str, object] | None) -> Principal | None:
        """The token's or the cookie's user, with the credential that opened the
        socket and when it lapses (token expiry; the login's absolute limit)."""
        token = auth.get("token") if auth else None
        if isinstance(token, str):
            found = tokens.resolve(db.session(), token)
            if found is None:
                return None
            user, row = found
            name, expires_at = tokens.credential(row), row.expires_at.timestamp()
        else:
            login = web_auth.cookie_login()  # the pages' idle and absolute limits
            if login is None:
                return None
            user, login_at = login
            name = web_auth.login_credential(user, login_at)
            expires_at = web_auth.login_deadline(login_at, self.app.config)
        if user.role not in SOCKET_ACCESS["connect"]:
            return None
        return Principal(user.id, user.role, name, float(expires_at))

    def check_credential(self, principal: Principal) -> Denied | None:
        """On join and end: the token is still valid, or the cookie is the same
        login (same nonce: no logout since) within its absolute limit. An open
        socket is activity, so the idle limit applies at connect only."""
        lapsed = (
            principal.expires_at is not None and time.time() >= principal.expires_at
        )
        if lapsed:
            return Denied("session_expired", SESSION_EXPIRED)
        if principal.credential.startswith("token:"):
            valid = tokens.credential_valid(db.session(), principal.credential)
        else:
            login = web_auth.cookie_login(check_idle=False)
            valid = login is not None and (
                web_auth.login_credential(*login) == principal.credential
            )
        return None if valid else Denied("signed_out", "signed out; sign in again")

    def allows(self, principal: Principal, event: str) -> bool:
        return principal.role in SOCKET_ACCESS.get(event, frozenset())

    def is_active(self, principal: Principal) -> bool:
        user = db.session.get(User, principal.user_id)
        return bool(user and user.active)

    def can_join(self, principal: Principal, session_id: str) -> JoinGrant | Denied:
        row = db.session.get(TherapySession, session_id)
        role = row.participant_role(principal.user_id) if row else None
        if row is None or role is None:
            return Denied("not_found", "no such session")
        if (
            row.status in (SessionStatus.ENDED, SessionStatus.CANCELLED)
            or row.modality == Modality.IN_PERSON
        ):
            return Denied("session_closed", f"this session is {row.status}")
        return JoinGrant(
            session_id=row.id,
            role=role,
            modality=row.modality,
            participants=(
                Participant(row.therapist_id, "therapist"),
                Participant(row.client_id, "client"),
            ),
            status=row.status,
        )

    def mark_live(self, session_id: str) -> None:
        scheduling.mark_live(db.session(), session_id)

    def chat_history(
        self, principal: Principal, session_id: str
    ) -> list[dict[str, Any]]:
        row = db.session.get(TherapySession, session_id)
        if row is None:
            return []
        audit.record(
            db.session(), "chat.read", principal.user_id, "session", session_id
        )
        db.session.commit()
        return [
            serialize.message(m, row.participant_role(m.sender_id) or "client")
            for m in chat.history(db.session(), session_id)
        ]

    def record_chat(
        self, principal: Principal, session_id: str, text: str, client_msg_id: str
    ) -> ChatResult | Denied:
        # the account check and the session in one prebuilt query, in the write's
        # transaction (columns, not an entity: this runs for every chat message)
        found = db.session.execute(
            _CHAT_CHECK, {"user_id": principal.user_id, "session_id": session_id}
        ).first()
        if found is None or not found.active:
            return Denied("unauthenticated", "sign in again")
        role = {found.therapist_id: "therapist", found.client_id: "client"}.get(
            principal.user_id
        )
        if found.status is None or role is None:
            return Denied("not_found", "no such session")
        if found.status in (SessionStatus.ENDED, SessionStatus.CANCELLED):
            return Denied("session_closed", f"this session is {found.status}")
        message, created = chat.record(
            db.session(), session_id, principal.user_id, text, client_msg_id
        )
        return ChatResult(serialize.message(message, role), created)

    def record_quality(
        self, principal: Principal, session_id: str, sample: Mapping[str, float | int]
    ) -> Denied | None:
        row = {
            "id": new_id(),
            "session_id": session_id,
            "user_id": principal.user_id,
            "at": datetime.now(UTC),
            "frames_dropped": None,
            **sample,
        }
        if self.quality.write(row):
            return None
        return Denied("unauthenticated", "sign in again")

    def end_session(
        self, principal: Principal, session_id: str
    ) -> Mapping[str, str] | Denied:
        user = db.session.get(User, principal.user_id)
        try:
            row = scheduling.end(db.session(), user, session_id)  # type: ignore[arg-type]  # accounts are never deleted
        except ServiceError as exc:
            code = {403: "forbidden", 404: "not_found"}.get(
                exc.status, "session_closed"
            )
            return Denied(code, exc.message)
        url = rating_url(row)
        return {row.therapist_id: url, row.client_id: url}

    def ice_servers(self, principal: Principal) -> list[dict[str, Any]]:
        return ice.ice_servers(self.app.config, principal.user_id)
