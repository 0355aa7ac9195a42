"""iCalendar invites (RFC 5546): METHOD REQUEST or CANCEL, one UID per session, SEQUENCE from scheduling."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event, vCalAddress, vText

UID_DOMAIN = "t4t-platform"  # the UID scheduling's calendar feeds give a session, so calendars update in place


def session_uid(session_id: str) -> str:
    return f"{session_id}@{UID_DOMAIN}"


def invite(method: str, sessions: list[dict], *, attendee: str | None, organizer: str, stamp: datetime) -> str:
    """An .ics of ``sessions`` (event data of scheduling's session events) for one attendee."""
    cal = Calendar()
    cal.add("prodid", "-//Training for Trainers//notifications//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    for data in sessions:
        event = Event()
        event.add("uid", session_uid(data["session_id"]))
        event.add("sequence", int(data["sequence"]))
        event.add("dtstamp", stamp)
        event.add("dtstart", datetime.fromisoformat(data["starts_at"]))
        event.add("dtend", datetime.fromisoformat(data["ends_at"]))
        event.add("summary", data["title"])
        event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
        location = where(data.get("place"))
        if location or data.get("meeting_url"):
            event.add("location", location or data["meeting_url"])
        if data.get("meeting_url"):
            event.add("url", data["meeting_url"])
        organizer_address = vCalAddress(f"mailto:{organizer}")
        organizer_address.params["cn"] = vText("Training for Trainers")
        event.add("organizer", organizer_address)
        if attendee:
            address = vCalAddress(f"mailto:{attendee}")
            address.params["role"] = vText("REQ-PARTICIPANT")
            address.params["rsvp"] = vText("FALSE")
            event.add("attendee", address)
        cal.add_component(event)
    return cal.to_ical().decode("utf-8")


def where(place: dict | None) -> str | None:
    """A session's place on one line: venue, room, address."""
    if not place:
        return None
    return ", ".join(part for part in (place.get("venue"), place.get("room"), place.get("address")) if part)
