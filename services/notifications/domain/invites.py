"""iCalendar invites (RFC 5546): METHOD REQUEST or CANCEL, one UID per session, SEQUENCE from scheduling."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress, vText

UID_DOMAIN = "t4t-platform"  # the UID scheduling's calendar feeds give a session, so calendars update in place


def session_uid(session_id: str) -> str:
    return f"{session_id}@{UID_DOMAIN}"


def invite(method: str, sessions: list[dict], *, attendee: str | None, organizer: str, stamp: datetime) -> str:
    """An .ics of ``sessions`` (event data of scheduling's session events) for one attendee.

    Only the attendee and the stamp differ between the invites of one change: the rest is built
    once per change (``_sessions_part``) and each attendee's lines added to it. Building every
    invite whole took 40 % of the consumer's time for a cohort's registrations (bench.pipeline).
    """
    shown = tuple(
        (
            d["session_id"],
            int(d["sequence"]),
            str(d["starts_at"]),
            str(d["ends_at"]),
            d["title"],
            where(d.get("place")),
            d.get("meeting_url"),
        )
        for d in sessions
    )
    shared = _sessions_part(method, organizer, shown)
    # The same lines icalendar writes for these two properties (folded at 75 octets as RFC 5545 says).
    lines = fold(f"DTSTAMP:{stamp.astimezone(UTC):%Y%m%dT%H%M%SZ}") + "\r\n"
    if attendee:
        lines += fold(f"ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:{attendee}") + "\r\n"
    return shared.replace("END:VEVENT\r\n", lines + "END:VEVENT\r\n")


@functools.lru_cache(maxsize=256)
def _sessions_part(method: str, organizer: str, sessions: tuple[tuple, ...]) -> str:
    """The calendar of these sessions without anything an attendee's invite has of its own."""
    cal = Calendar()
    cal.add("prodid", "-//Training for Trainers//notifications//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    for session_id, sequence, starts_at, ends_at, title, location, meeting_url in sessions:
        event = Event()
        event.add("uid", session_uid(session_id))
        event.add("sequence", sequence)
        event.add("dtstart", datetime.fromisoformat(starts_at))
        event.add("dtend", datetime.fromisoformat(ends_at))
        event.add("summary", title)
        event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
        if location or meeting_url:
            event.add("location", location or meeting_url)
        if meeting_url:
            event.add("url", meeting_url)
        organizer_address = vCalAddress(f"mailto:{organizer}")
        organizer_address.params["cn"] = vText("Training for Trainers")
        event.add("organizer", organizer_address)
        cal.add_component(event)
    return cal.to_ical().decode("utf-8")


def fold(line: str) -> str:
    """A content line folded as RFC 5545 says (75 octets at most a line), never inside a character."""
    if line.isascii():  # one octet a character: 74 of them a line (after the space on a continued one)
        return "\r\n ".join([line[n : n + 74] for n in range(0, len(line), 74)] or [""])
    parts, current, size = [], "", 0
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets >= 75:  # as icalendar folds: 74 octets at most
            parts.append(current)
            current, size = " ", 0
        current += char
        size += octets
    parts.append(current)
    return "\r\n".join(parts)


def where(place: dict | None) -> str | None:
    """A session's place on one line: venue, room, address."""
    if not place:
        return None
    return ", ".join(part for part in (place.get("venue"), place.get("room"), place.get("address")) if part)
