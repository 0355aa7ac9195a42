"""Cohort and session rules: times and their rendering, where a session happens, and what may still change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from services.scheduling.domain.timezones import abbreviation, as_utc, render
from shared.errors import Conflict, InvalidInput

IN_PERSON = "in_person"
VIRTUAL = "virtual"
HYBRID = "hybrid"
FORMATS = (IN_PERSON, VIRTUAL, HYBRID)

SCHEDULED = "scheduled"
CANCELLED = "cancelled"

# A training day, not a retreat: a longer span is almost always a mistyped date.
MAX_DURATION = timedelta(hours=12)


def check_times(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """Both instants in UTC; they carry an offset, and the session ends after it starts, within a day's work."""
    errors = {}
    for name, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            errors[name] = ["Naive datetime: give an offset or Z."]
    if errors:
        raise InvalidInput("Times need an offset or Z.", errors=errors)
    starts, ends = as_utc(starts_at), as_utc(ends_at)
    if ends <= starts:
        raise InvalidInput("The session ends before it starts.", errors={"ends_at": ["Must be after starts_at."]})
    if ends - starts > MAX_DURATION:
        raise InvalidInput(
            "A session lasts at most 12 hours.", errors={"ends_at": [f"More than {MAX_DURATION} after starts_at."]}
        )
    return starts, ends


def check_registration_window(opens_at: datetime | None, closes_at: datetime | None) -> None:
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise InvalidInput(
            "Registration closes before it opens.",
            errors={"registration_closes_at": ["Must be after registration_opens_at."]},
        )


def check_room_or_link(format_: str, *, room_id: str | None, meeting_url: str | None) -> None:
    """In person needs a room, virtual a link, hybrid both; nothing a format cannot use (no stray links)."""
    errors = {}
    if format_ in (IN_PERSON, HYBRID) and not room_id:
        errors["room_id"] = [f"Required for a {format_} session."]
    if format_ == VIRTUAL and room_id:
        errors["room_id"] = ["A virtual session has no room."]
    if format_ in (VIRTUAL, HYBRID) and not meeting_url:
        errors["meeting_url"] = [f"Required for a {format_} session."]
    if format_ == IN_PERSON and meeting_url:
        errors["meeting_url"] = ["An in-person session has no meeting link; make the cohort hybrid."]
    if errors:
        raise InvalidInput(f"A {format_} session's place is incomplete or contradictory.", errors=errors)


def session_facilitators(requested: Iterable[str] | None, cohort_facilitators: Iterable[str]) -> list[str]:
    """The session's facilitators: those named, else the cohort's; each once, in order."""
    chosen = list(requested) if requested is not None else list(cohort_facilitators)
    return list(dict.fromkeys(chosen))


def check_changeable(status: str) -> None:
    """A cancelled session stays cancelled: schedule a new one instead."""
    if status == CANCELLED:
        raise Conflict(
            "This session is cancelled; schedule a new session instead.", errors={"status": [f"Is {CANCELLED}."]}
        )


def check_movable(*, has_attendance: bool) -> None:
    """A session with attendance marks is not moved: its marks and credited minutes are of the session as held.

    Moving it would keep that credit for another time. Cancel it instead (its credit is withdrawn,
    in the training-hours export and in the calendars alike) and schedule the session that really
    took place, then mark that one.
    """
    if has_attendance:
        raise Conflict(
            "This session has attendance; cancel it and schedule the session that took place instead.",
            errors={"starts_at": ["The session has attendance marks."]},
        )


def render_times(starts_at: datetime, ends_at: datetime, time_zone: str, viewer_time_zone: str | None = None) -> dict:
    """A session's times in UTC, in the cohort's zone (with its abbreviation), and in the viewer's when it differs."""
    rendered = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "time_zone": time_zone,
        "local_start": render(starts_at, time_zone),
        "local_end": render(ends_at, time_zone),
        "zone_abbreviation": abbreviation(starts_at, time_zone),
    }
    if viewer_time_zone and viewer_time_zone != time_zone:
        rendered.update(
            {
                "viewer_time_zone": viewer_time_zone,
                "viewer_start": render(starts_at, viewer_time_zone),
                "viewer_end": render(ends_at, viewer_time_zone),
                "viewer_zone_abbreviation": abbreviation(starts_at, viewer_time_zone),
            }
        )
    return rendered
