"""Chat messages: stored once per (session, sender, client_msg_id), numbered per session."""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import ChatMessage


def _existing(
    tx: Session, session_id: str, sender_id: str, client_msg_id: str
) -> ChatMessage | None:
    stmt = select(ChatMessage).where(
        ChatMessage.session_id == session_id,
        ChatMessage.sender_id == sender_id,
        ChatMessage.client_msg_id == client_msg_id,
    )
    return tx.scalar(stmt)


def record(
    tx: Session, session_id: str, sender_id: str, text: str, client_msg_id: str
) -> tuple[ChatMessage, bool]:
    """(message, created). A resend returns the stored message and creates nothing."""
    for _attempt in range(5):
        found = _existing(tx, session_id, sender_id, client_msg_id)
        if found is not None:
            return found, False
        seq = (
            tx.scalar(
                select(func.max(ChatMessage.seq)).where(
                    ChatMessage.session_id == session_id
                )
            )
            or 0
        ) + 1
        row = ChatMessage(
            session_id=session_id,
            sender_id=sender_id,
            client_msg_id=client_msg_id,
            text=text,
            seq=seq,
        )
        tx.add(row)
        try:
            tx.commit()
            return row, True
        except IntegrityError:
            # Lost a race on seq or on the same client_msg_id: look again.
            tx.rollback()
    raise RuntimeError("could not store chat message after 5 attempts")


def history(
    tx: Session, session_id: str, *, limit: int = 500, offset: int = 0
) -> list[ChatMessage]:
    stmt = (
        select(ChatMessage)
        .where(ChatMessage.session_id == session_id)
        .order_by(ChatMessage.seq)
        .limit(limit)
        .offset(offset)
    )
    return list(tx.scalars(stmt))
