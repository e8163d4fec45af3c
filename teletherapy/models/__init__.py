"""SQLAlchemy 2.0 typed models; import from here."""

from .account import (
    MAIL_STATUSES,
    Invitation,
    OutgoingMail,
    PasswordReset,
    RecoveryCode,
)
from .audit import AuditEvent
from .base import Base, new_id, utcnow
from .login import LoginThrottle
from .outcome import MAX_EVERY_N, OutcomeResponse, OutcomeSettings
from .rating import PERSPECTIVES, Rating
from .session import (
    MODALITIES,
    STATUSES,
    ChatMessage,
    Modality,
    QualitySample,
    SessionStatus,
    TherapySession,
)
from .user import ROLES, ApiToken, CaseloadAssignment, ResearchConsent, User

__all__ = [
    "MAIL_STATUSES",
    "MAX_EVERY_N",
    "MODALITIES",
    "PERSPECTIVES",
    "ROLES",
    "STATUSES",
    "ApiToken",
    "AuditEvent",
    "Base",
    "CaseloadAssignment",
    "ChatMessage",
    "Invitation",
    "LoginThrottle",
    "Modality",
    "OutcomeResponse",
    "OutcomeSettings",
    "OutgoingMail",
    "PasswordReset",
    "QualitySample",
    "Rating",
    "RecoveryCode",
    "ResearchConsent",
    "SessionStatus",
    "TherapySession",
    "User",
    "new_id",
    "utcnow",
]
