"""Learning communities' rules in scheduling: who sees a community's calls, who runs them, what a call needs.

Content owns the community and its members; scheduling keeps what content's events say of them and
applies one rule (docs/communities.md): national admins, the community's members, and the
jurisdiction admins of a member jurisdiction see its space; everyone else is told it does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.errors import Conflict, InvalidInput

INTERACTIVE_CALL = "interactive_call"
EXPERT_SESSION = "expert_session"
FACE_TO_FACE = "face_to_face"
AUDIO_CONFERENCE = "audio_conference"
CALL_KINDS = (INTERACTIVE_CALL, EXPERT_SESSION, FACE_TO_FACE)  # what a community schedules
ALL_KINDS = (*CALL_KINDS, AUDIO_CONFERENCE)

STAFF = "staff"
MEMBER_KINDS = ("team_member", STAFF, "guest_expert")

SCHEDULED = "scheduled"
CANCELLED = "cancelled"
PRESENT, ABSENT = "present", "absent"
MARKS = (PRESENT, ABSENT)

# The source document's "interactive conference calls (approximately 50 minutes each)".
DEFAULT_CALL_MINUTES = 50
MAX_CALL_MINUTES = 12 * 60
# Attendance is taken from shortly before a call starts, as for sessions.
ATTENDANCE_OPENS_BEFORE = timedelta(minutes=30)


@dataclass(frozen=True)
class Viewer:
    """The caller as the rule sees them: their sub, tenant and the roles that matter here."""

    sub: str
    tenant: str
    national_admin: bool
    jurisdiction_admin: bool


@dataclass(frozen=True)
class Membership:
    member: str
    kind: str
    jurisdiction: str | None
    active: bool


def sees(viewer: Viewer, members: Iterable[Membership]) -> bool:
    """National admins, active members, and the admins of a jurisdiction with an active member."""
    if viewer.national_admin:
        return True
    for m in members:
        if not m.active:
            continue
        if m.member == viewer.sub:
            return True
        if viewer.jurisdiction_admin and m.jurisdiction == viewer.tenant:
            return True
    return False


def runs_calls(viewer: Viewer, members: Iterable[Membership], facilitators: Iterable[str]) -> bool:
    """National admins, the community's facilitators and its Initiative staff members schedule and run calls."""
    if viewer.national_admin or viewer.sub in set(facilitators):
        return True
    return any(m.active and m.member == viewer.sub and m.kind == STAFF for m in members)


def invitees(members: Iterable[Membership]) -> list[str]:
    """Everyone who is a member now, in a stable order."""
    return sorted({m.member for m in members if m.active})


def check_setting(kind: str, *, place: dict | None, meeting_url: str | None) -> None:
    """A face-to-face meeting has a place; a call has a link and no place."""
    if kind == FACE_TO_FACE:
        if not place:
            raise InvalidInput(
                "A face-to-face meeting needs its place.", errors={"place": ["Give the venue and address."]}
            )
        return
    if place:
        raise InvalidInput("Only face-to-face meetings have a place.", errors={"place": ["Only for face_to_face."]})
    if not meeting_url:
        raise InvalidInput(
            "A call needs the link or dial-in page people join by.", errors={"meeting_url": ["Required for calls."]}
        )


def check_open(status: str) -> None:
    if status == CANCELLED:
        raise Conflict("This call is cancelled; schedule another.", errors={"status": ["cancelled"]})


def check_attendance_time(starts_at: datetime, now: datetime) -> None:
    if now < starts_at - ATTENDANCE_OPENS_BEFORE:
        raise InvalidInput(
            "Attendance is taken from 30 minutes before the call starts.",
            errors={"marks": ["The call has not started yet."]},
        )


def check_marks(marks: list[dict], members: set[str]) -> None:
    """Every person marked is a member now (a name typed wrong is a 422, not a stray row)."""
    seen: set[str] = set()
    errors: dict[str, list[str]] = {}
    for index, mark in enumerate(marks):
        person = mark["person"]
        if person in seen:
            errors[str(index)] = [f"{person} is marked twice."]
        elif person not in members:
            errors[str(index)] = [f"{person} is not a member of this community."]
        seen.add(person)
    if errors:
        raise InvalidInput("Some marks name no member of the community.", errors={"marks": errors})
