"""Quality samples' group commit: up to QUALITY_WRITERS writer tasks share one queue.

docs/signaling.md ("The policy") says what it promises; teletherapy.rtc_policy.RtcPolicy owns one
writer and hands it the socket server's task starter and sleep.
"""

import logging
import threading
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select

from ..models import QualitySample, User

logger = logging.getLogger("teletherapy.rtc")
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

    def __init__(
        self,
        engine: Callable[[], Engine],
        start_task: Callable[[Callable[[], None]], object],
        sleep: Callable[[float], object],
    ) -> None:
        self._engine = engine
        self._start_task = start_task
        self._sleep = sleep
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
                self._start_task(self._run)
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
                with self._engine().connect() as conn:
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
            self._sleep(QUALITY_BATCH_WINDOW_S)
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
