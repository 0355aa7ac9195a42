"""Sessions laid out on month calendars, and how far their attendance is taken (pure: no Flask, no I/O)."""

from __future__ import annotations

import calendar
from datetime import date, datetime

SUMMARIZED = 50  # sessions whose attendance one call summarizes (the API's limit)


def shown_start(session: dict) -> str:
    """The start the reader asked for (their zone), else the cohort's local start."""
    return session.get("viewer_start") or session.get("local_start") or session["starts_at"]


def calendar_months(sessions: list[dict]) -> list[dict]:
    """One month per month with a session: ``{"title", "weeks": [[{"day", "sessions"} | None, ...]]}``."""
    by_day: dict[date, list[dict]] = {}
    for session in sessions:
        by_day.setdefault(datetime.fromisoformat(shown_start(session)).date(), []).append(session)
    months = sorted({(day.year, day.month) for day in by_day})
    result = []
    for year, month in months:
        weeks = []
        for week in calendar.Calendar(firstweekday=6).monthdatescalendar(year, month):
            weeks.append([{"day": d, "sessions": by_day.get(d, [])} if d.month == month else None for d in week])
        result.append({"title": f"{calendar.month_name[month]} {year}", "weeks": weeks})
    return result


def to_summarize(sessions: list[dict], now: datetime) -> list[str]:
    """The sessions worth asking about: not cancelled, started, the latest first, up to SUMMARIZED."""
    begun = [s for s in sessions if s.get("status") != "cancelled" and datetime.fromisoformat(s["starts_at"]) <= now]
    begun.sort(key=lambda s: s["starts_at"], reverse=True)
    return [s["id"] for s in begun[:SUMMARIZED]]


def attendance_state(summary: dict | None) -> dict | None:
    """What a facilitator reads about a session's attendance: ``{"text", "done"}``; None when not asked about.

    Taken means every confirmed registration is marked; partly taken that some still are not.
    """
    if summary is None:
        return None
    marked, unmarked = summary["marked"], summary["unmarked"]
    if marked == 0 and unmarked == 0:
        return {"text": "Nobody to mark: no confirmed registrations", "done": True}
    if marked == 0:
        return {"text": "Attendance not taken yet", "done": False}
    if unmarked:
        people = "person" if unmarked == 1 else "people"
        return {"text": f"Attendance partly taken: {marked} marked, {unmarked} {people} not yet", "done": False}
    return {"text": f"Attendance taken: {marked} marked", "done": True}
