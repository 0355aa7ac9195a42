"""How an instant (or an amount of hours) reads to a person: in their time zone and language, and in the
session's when it differs."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.notifications.domain.invites import where

DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
MONTHS = {
    "en": ("January February March April May June July August September October November December").split(),
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split(),
}


def zone(name: str | None, fallback: str) -> ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def clock(moment: datetime, language: str) -> str:
    if language == "es":
        return moment.strftime("%H:%M")
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def day(moment: datetime, language: str) -> str:
    lang = language if language in DAYS else "en"
    weekday, month = DAYS[lang][moment.weekday()], MONTHS[lang][moment.month - 1]
    if lang == "es":
        return f"{weekday} {moment.day} de {month} de {moment.year}"
    return f"{weekday}, {month} {moment.day}, {moment.year}"


def span(starts_at: datetime, ends_at: datetime, tz: ZoneInfo, language: str) -> str:
    """``Tuesday, February 2, 2027, 9:00 AM – 12:00 PM PST`` in ``tz``."""
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    return f"{day(start, language)}, {clock(start, language)} – {clock(end, language)} {start.tzname()}"


def session_times(
    starts_at: datetime, ends_at: datetime, person_zone: str | None, session_zone: str, language: str
) -> tuple[str, str | None]:
    """The session's times in the person's zone, and in the session's own zone when that reads differently."""
    mine, theirs = zone(person_zone, session_zone), zone(session_zone, "UTC")
    shown = span(starts_at, ends_at, mine, language)
    there = span(starts_at, ends_at, theirs, language)
    return shown, (there if there != shown else None)


def session_details(data: dict, person_zone: str | None, language: str) -> dict:
    """What a message says of a session (event data of scheduling's session events), in the person's zone.

    ``was`` is the time it had before a reschedule, when the event says so.
    """
    starts, ends = datetime.fromisoformat(data["starts_at"]), datetime.fromisoformat(data["ends_at"])
    shown, there = session_times(starts, ends, person_zone, data["time_zone"], language)
    was = None
    if data.get("previous_starts_at"):
        before = datetime.fromisoformat(data["previous_starts_at"])
        was = session_times(before, before + (ends - starts), person_zone, data["time_zone"], language)[0]
    place = data.get("place") or {}
    return {
        "title": data["title"],
        "when": shown,
        "when_there": there,
        "was": was,
        "place": where(data.get("place")),
        "accessibility": place.get("accessibility") or None,
        "meeting_url": data.get("meeting_url"),
    }


def hours(value: float, language: str) -> str:
    """Hours credited as people write them: ``18``, ``16.5``; in Spanish ``16,5``."""
    text = f"{round(float(value), 2):g}"
    return text.replace(".", ",") if language == "es" else text
