"""Training request rules: the submitted → approved | declined lifecycle and the approved cohort's defaults."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from shared.errors import Conflict, InvalidInput

SUBMITTED = "submitted"
APPROVED = "approved"
DECLINED = "declined"
STATUSES = (SUBMITTED, APPROVED, DECLINED)
DECISIONS = (APPROVED, DECLINED)


def decide(status: str, decision: str, reason: str | None = None) -> str:
    """The status after a national admin's decision; a request is decided once, and a decline says why."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    if status != SUBMITTED:
        raise Conflict(
            f"This request was already {status}; a request is decided only once.",
            errors={"status": [f"Is {status}, not {SUBMITTED}."]},
        )
    if decision == DECLINED and not (reason or "").strip():
        raise InvalidInput("A declined request needs a reason.", errors={"reason": ["Say why it is declined."]})
    return decision


def check_windows(windows: Sequence[Mapping]) -> list[dict]:
    """Preferred windows as stored (ISO dates); each ends on or after the day it starts."""
    errors: dict[int, dict] = {}
    stored = []
    for index, window in enumerate(windows):
        starts_on, ends_on = window["starts_on"], window["ends_on"]
        if isinstance(starts_on, str):
            starts_on, ends_on = date.fromisoformat(starts_on), date.fromisoformat(ends_on)
        if ends_on < starts_on:
            errors[index] = {"ends_on": ["Must be on or after starts_on."]}
        stored.append({"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
    if errors:
        raise InvalidInput("A preferred window ends before it starts.", errors={"preferred_windows": errors})
    return stored


def cohort_settings(settings: Mapping, *, expected_participants: int, default_time_zone: str | None) -> dict:
    """The approved cohort's settings: what the admin sent, else the request's size and the jurisdiction's zone."""
    time_zone = settings.get("time_zone") or default_time_zone
    if not time_zone:
        raise InvalidInput(
            "The jurisdiction has no default time zone; send one.",
            errors={"time_zone": ["Required: the jurisdiction has no default."]},
        )
    capacity = settings.get("capacity") or expected_participants
    return {
        "title": settings["title"],
        "time_zone": time_zone,
        "capacity": capacity,
        "facilitators": list(dict.fromkeys(settings.get("facilitators") or [])),
        "registration_opens_at": settings.get("registration_opens_at"),
        "registration_closes_at": settings.get("registration_closes_at"),
        "requires_approval": bool(settings.get("requires_approval", False)),
        "completion_minimum": settings.get("completion_minimum") or 9,
    }
