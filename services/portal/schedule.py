"""Sessions laid out on month calendars, by the local date each session starts on (pure: no Flask, no I/O)."""

from __future__ import annotations

import calendar
from datetime import date, datetime


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
