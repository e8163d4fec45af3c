"""Calendar files (iCalendar, RFC 5545) for a therapy session, sent by mail.

One event per session with a stable UID, so a calendar program updates the
entry it already has: scheduling sends ``METHOD:REQUEST`` with SEQUENCE 0, a
reschedule raises ``TherapySession.calendar_sequence`` and sends REQUEST again
with the new time, a cancellation raises it once more and sends
``METHOD:CANCEL``. Times are in UTC. The summary names only the other person:
no modality, nothing clinical. The caller passes the absolute join link and the
UID's domain (the host of PUBLIC_URL), so nothing here needs Flask. icalendar is
imported when a file is written, not when the app starts.
"""

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from ..models import TherapySession, User

if TYPE_CHECKING:
    from icalendar import vCalAddress

Method = Literal["REQUEST", "CANCEL"]
PRODID = "-//Teletherapy//Session calendar//EN"


def uid(session: TherapySession, domain: str) -> str:
    """The event's UID: the same for every file about this session."""
    return f"{session.id}@{domain or 'teletherapy.invalid'}"


def summary_for(session: TherapySession, recipient: User | None = None) -> str:
    """A neutral title: the other person's name (the client's, for anyone else)."""
    other = (
        session.therapist
        if recipient and recipient.id == session.client_id
        else session.client
    )
    return f"Session with {other.display_name}"


def _address(user: User, role: str) -> "vCalAddress":
    from icalendar import vCalAddress, vText

    address = vCalAddress(f"mailto:{user.email}")
    address.params["CN"] = vText(user.display_name)
    address.params["ROLE"] = vText(role)
    return address


def ics(
    session: TherapySession,
    *,
    method: Method,
    join_url: str,
    uid_domain: str,
    recipient: User | None = None,
    now: datetime | None = None,
) -> str:
    """The calendar file's text (CRLF lines, as RFC 5545 wants)."""
    from icalendar import Calendar, Event, vText

    start = session.scheduled_start.astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    event = Event()
    event.add("uid", uid(session, uid_domain))
    event.add("sequence", int(session.calendar_sequence or 0))
    event.add("dtstamp", (now or datetime.now(UTC)).astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=session.duration_minutes))
    event.add("summary", summary_for(session, recipient))
    event.add("description", f"Join the session: {join_url}")
    event.add("url", join_url)
    event.add("organizer", _address(session.therapist, "CHAIR"))
    attendee = _address(session.client, "REQ-PARTICIPANT")
    attendee.params["RSVP"] = vText("FALSE")
    event.add("attendee", attendee)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    cal.add_component(event)
    data: bytes = cal.to_ical()
    return data.decode()
