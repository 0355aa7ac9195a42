"""Attendance rules: minutes credited per mark, the marking window, the completion rule and hours."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from shared.errors import Conflict, InvalidInput

PRESENT = "present"
ABSENT = "absent"
PARTIAL = "partial"
STATUSES = (PRESENT, ABSENT, PARTIAL)
# Marks that count as having attended a session for the completion rule.
ATTENDED = (PRESENT, PARTIAL)

CANCELLED = "cancelled"
CONFIRMED = "confirmed"


def session_minutes(starts_at: datetime, ends_at: datetime) -> int:
    """A session's length in whole minutes (what "present" credits)."""
    return max(int((ends_at - starts_at).total_seconds() // 60), 0)


def credited_minutes(status: str, minutes: int | None, length: int) -> int:
    """The minutes a mark credits; InvalidInput (field ``minutes``/``status``) if they do not fit the mark.

    Present credits the whole session and absent nothing, so a client may omit ``minutes`` for
    them, but a contradicting number is refused rather than silently overridden. Partial needs the
    minutes actually attended: at least one, and less than the whole session (else it is present).
    The rule is the same for in-person, virtual and hybrid sessions.
    """
    if status == PRESENT:
        if minutes is not None and minutes != length:
            raise InvalidInput(
                "Present credits the whole session.",
                errors={"minutes": [f"Present credits all {length} minutes; omit minutes or use partial."]},
            )
        return length
    if status == ABSENT:
        if minutes not in (None, 0):
            raise InvalidInput(
                "Absent credits no minutes.",
                errors={"minutes": ["Absent credits 0 minutes; omit minutes or use partial."]},
            )
        return 0
    if status == PARTIAL:
        if minutes is None:
            raise InvalidInput(
                "Partial attendance needs the minutes attended.",
                errors={"minutes": [f"Required for partial: 1 to {length - 1}."]},
            )
        if not 1 <= minutes <= length - 1:
            raise InvalidInput(
                "Partial minutes must be within the session.",
                errors={
                    "minutes": [
                        f"Must be 1 to {length - 1} for this {length}-minute session "
                        f"(use present for the whole session, absent for none)."
                    ]
                },
            )
        return minutes
    raise InvalidInput("Unknown attendance status.", errors={"status": [f"Must be one of {', '.join(STATUSES)}."]})


def marking_opens_at(starts_at: datetime, opens_minutes: int) -> datetime:
    return starts_at - timedelta(minutes=opens_minutes)


def check_markable(
    *,
    session_status: str,
    cohort_status: str,
    starts_at: datetime,
    now: datetime,
    opens_minutes: int,
    opens_at_local: str,
) -> None:
    """Attendance is taken for sessions that happen: not cancelled, and from shortly before the start.

    ``opens_at_local`` is the opening instant rendered in the cohort's zone, for the message.
    """
    if session_status == CANCELLED or cohort_status == CANCELLED:
        what = "session" if session_status == CANCELLED else "cohort"
        raise Conflict(
            f"This {what} is cancelled; attendance cannot be recorded for it.",
            errors={"session": [f"The {what} is cancelled."]},
        )
    opens = marking_opens_at(starts_at, opens_minutes)
    if now < opens:
        raise Conflict(
            f"Attendance for this session can be marked from {opens_at_local} "
            f"({opens_minutes} minutes before it starts).",
            errors={"session": [f"Marking opens at {opens_at_local}."]},
            opens_at=opens.isoformat(),
        )


def credit_records(records: Sequence[Mapping], *, length: int, registration_status: Mapping[str, str]) -> list[int]:
    """The minutes each record credits, checking every record before any is written.

    ``registration_status`` maps the ids of this cohort's registrations to their status; only
    confirmed registrations are marked. All faults are reported at once, by record index, in the
    shape marshmallow uses for nested lists: ``{"records": {"3": {"minutes": [...]}}}``.
    """
    errors: dict[str, dict] = {}
    credited: list[int] = []
    seen: set[str] = set()
    for index, record in enumerate(records):
        registration_id = record["registration_id"]
        fault: dict[str, list[str]] = {}
        status = registration_status.get(registration_id)
        if status is None:
            fault["registration_id"] = [f"{registration_id} is not a registration of this cohort."]
        elif status != CONFIRMED:
            fault["registration_id"] = [
                f"{registration_id} is {status}, not confirmed; only confirmed registrations are marked."
            ]
        elif registration_id in seen:
            fault["registration_id"] = [f"{registration_id} is marked more than once in this request."]
        seen.add(registration_id)
        try:
            credited.append(credited_minutes(record["status"], record.get("minutes"), length))
        except InvalidInput as exc:
            fault.update(exc.errors or {})
        if fault:
            errors[str(index)] = fault
    if errors:
        bad = [records[int(i)]["registration_id"] for i in errors]
        raise InvalidInput(
            f"{len(errors)} of {len(records)} records are invalid (registrations "
            f"{', '.join(bad)}); nothing was recorded.",
            errors={"records": errors},
        )
    return credited


def required_sessions(completion_minimum: int, cancelled_sessions: int) -> int:
    """How many sessions a participant must attend to complete.

    The cohort's minimum, lowered by one for each cancelled session (a cancellation must not make
    completion impossible), and never below one. Sessions not scheduled yet do not lower it: three
    sessions attended out of the first three scheduled do not complete a nine-session series.
    """
    return max(completion_minimum - cancelled_sessions, 1)


def completes(sessions_attended: int, completion_minimum: int, cancelled_sessions: int) -> bool:
    """True when a confirmed participant has met the cohort's completion rule."""
    return sessions_attended >= required_sessions(completion_minimum, cancelled_sessions)


def hours(minutes: int) -> float:
    """Training hours credited for ``minutes`` attended, to the hundredth."""
    return round(minutes / 60, 2)


def format_hours(minutes: int) -> str:
    """Hours as people write them: 18, 16.5, 16.25."""
    return f"{hours(minutes):.2f}".rstrip("0").rstrip(".")


def attended_totals(marks: Iterable[tuple[str, int]]) -> tuple[int, int]:
    """(sessions attended, minutes credited) from (status, minutes) marks of held sessions."""
    sessions = minutes = 0
    for status, credited in marks:
        if status in ATTENDED:
            sessions += 1
            minutes += credited
    return sessions, minutes
