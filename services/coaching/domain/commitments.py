"""A commitment's due date and status: calendar arithmetic and the clock, nothing else."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo

ON_TRACK = "on_track"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
FULFILLED = "fulfilled"
STATUSES = (OVERDUE, DUE_SOON, ON_TRACK, FULFILLED)  # the caseload's order: what needs attention first

DUE_SOON_DAYS = 30
# The scheduled checks remind at these many days before the due date, each once.
REMINDER_DAYS = (30, 7)
DEFAULT_TIME_FRAME_MONTHS = 6
AGREEING_PARTIES = ("participant", "specialist", "jurisdiction", "host_agency")


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` calendar months, on the same day or the month's last day if it has fewer.

    31 August + 6 months is 28 February (29 in a leap year); 29 February + 12 months is 28 February.
    """
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def completion_day(completed_at: datetime, time_zone: str) -> date:
    """The day a trainer completed the training, where their jurisdiction is: a completion at 03:00 UTC
    on 1 March is still 28 February in California, and the time frame counts from there."""
    return completed_at.astimezone(ZoneInfo(time_zone)).date()


def due_date(completed_on: date, time_frame_months: int) -> date:
    """The date a trainer commits to have delivered the training by."""
    return add_months(completed_on, time_frame_months)


def status(due_on: date, fulfilled_on: date | None, today: date) -> str:
    """Fulfilled once delivered; else overdue after the due date, due soon within 30 days of it, else on track."""
    if fulfilled_on is not None:
        return FULFILLED
    days_left = (due_on - today).days
    if days_left < 0:
        return OVERDUE
    if days_left <= DUE_SOON_DAYS:
        return DUE_SOON
    return ON_TRACK


def reminders_due(due_on: date, fulfilled_on: date | None, today: date) -> list[str]:
    """The notices a check on ``today`` owes this commitment (each is sent once; the caller keeps track)."""
    if fulfilled_on is not None:
        return []
    days_left = (due_on - today).days
    if days_left < 0:
        return ["overdue"]
    return [f"due_soon_{days}" for days in REMINDER_DAYS if days_left <= days]


def delivery_progress(sessions: list[dict]) -> dict:
    """Milestones of one cohort a trainer facilitates, from its sessions ({starts_at, cancelled, held_at}).

    The delivery is scheduled once a session is; its first session is held when attendance is first taken
    in one; it is completed when every session not cancelled has been held (attendance taken in each).
    """
    live = [s for s in sessions if not s["cancelled"]]
    held = [s["held_at"] for s in live if s["held_at"] is not None]
    return {
        "scheduled": bool(live),
        "first_held_at": min(held) if held else None,
        "completed_at": max(held) if live and len(held) == len(live) else None,
    }
