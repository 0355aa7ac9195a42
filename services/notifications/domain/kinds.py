"""The kinds of notification, which event makes which, and the few nobody may turn off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

CHANNELS = ("email",)
LANGUAGES = ("en", "es")
# A session cancelled or moved this close to its start reaches its people whatever they chose.
CRITICAL_WINDOW = timedelta(hours=48)


@dataclass(frozen=True)
class Kind:
    """A kind of notification: its template, who hears of it, and whether an invite goes with it."""

    template: str
    audience: str
    invite: str | None = None  # "REQUEST" or "CANCEL"


# Event type -> kind. The documented table (docs/notifications.md) is this one.
KINDS: dict[str, Kind] = {
    "scheduling.registration.confirmed": Kind("registration_confirmed", "the participant", "REQUEST"),
    "scheduling.registration.waitlisted": Kind("registration_waitlisted", "the participant"),
    "scheduling.registration.promoted": Kind("registration_promoted", "the participant", "REQUEST"),
    "scheduling.registration.cancelled": Kind("registration_cancelled", "the participant", "CANCEL"),
    "scheduling.session.scheduled": Kind("session_scheduled", "confirmed registrants and facilitators", "REQUEST"),
    "scheduling.session.rescheduled": Kind("session_rescheduled", "confirmed registrants and facilitators", "REQUEST"),
    "scheduling.session.cancelled": Kind("session_cancelled", "confirmed registrants and facilitators", "CANCEL"),
    "scheduling.request.approved": Kind("request_approved", "the requester"),
    "scheduling.request.declined": Kind("request_declined", "the requester"),
    "content.adaptation.submitted": Kind(
        "adaptation_submitted", "the facilitator's specialist (who supports them in their coaching plan)"
    ),
    "content.adaptation.reviewed": Kind("adaptation_reviewed", "the facilitator"),
    "scheduling.participant.completed": Kind("training_completed", "the participant"),
    "coaching.plan.created": Kind("plan_opened", "the trainer and their specialist"),
    "coaching.plan.specialist_assigned": Kind(
        "specialist_assigned", "the trainer and the specialist now supporting them"
    ),
    "coaching.commitment.due_soon": Kind("commitment_due_soon", "the trainer"),
    "coaching.commitment.overdue": Kind("commitment_overdue", "the trainer and their specialist"),
    "coaching.commitment.fulfilled": Kind("commitment_fulfilled", "the trainer and their specialist"),
    "coaching.followup.due": Kind("followup_due", "the coach or specialist who set it"),
    "scheduling.community_call.scheduled": Kind(
        "community_call_scheduled", "the community's members (an audio-conference's registrant)", "REQUEST"
    ),
    "scheduling.community_call.rescheduled": Kind(
        "community_call_rescheduled", "the community's members (an audio-conference's registrants)", "REQUEST"
    ),
    "scheduling.community_call.cancelled": Kind(
        "community_call_cancelled", "the community's members (an audio-conference's registrants)", "CANCEL"
    ),
    "content.thread.replied": Kind("thread_replied", "the thread's followers (not the reply's author)"),
    "content.synthesis.published": Kind("synthesis_published", "the community's members"),
}
# Events notifications takes only for state systems' webhooks: nobody is e-mailed of them (the
# activity's author and trainer were both there).
WEBHOOK_ONLY = ("coaching.activity.logged",)
REMINDER = Kind("session_reminder", "confirmed registrants", None)
CALL_REMINDER = Kind("community_call_reminder", "the call's invitees", None)
# content.community.member_left: the calls a leaver was invited to leave their calendar with them.
COMMUNITY_LEFT = Kind("community_left", "the member who left", "CANCEL")
TEMPLATES = tuple(
    sorted({k.template for k in KINDS.values()} | {REMINDER.template, CALL_REMINDER.template, COMMUNITY_LEFT.template})
)


DIGESTS = ("none", "hourly", "daily")
# Kinds a person may take as a digest: none that carries a calendar invite (the calendar must update
# at once), nor reminders (a late reminder is no reminder).
DIGESTIBLE = tuple(sorted({k.template for k in KINDS.values() if k.invite is None and k.template != REMINDER.template}))


def digest_window_end(moment: datetime, digest: str) -> datetime:
    """The end of the hourly or daily (UTC) window ``moment`` falls in."""
    start = moment.replace(minute=0, second=0, microsecond=0)
    if digest == "daily":
        start = start.replace(hour=0)
        return start + timedelta(days=1)
    return start + timedelta(hours=1)


CRITICAL_TEMPLATES = (
    "session_cancelled",
    "session_rescheduled",
    "community_call_cancelled",
    "community_call_rescheduled",
)


def is_critical(template: str, starts_at: datetime | None, now: datetime) -> bool:
    """A session cancelled or moved within 48 hours of its start (the old or new one) cannot be opted out of."""
    if template not in CRITICAL_TEMPLATES or starts_at is None:
        return False
    return starts_at - now <= CRITICAL_WINDOW


def wants(
    template: str,
    channel: str,
    *,
    jurisdiction_default: bool | None,
    person_override: bool | None,
    critical: bool,
) -> bool:
    """Whether a person gets ``template`` on ``channel``: their override, else their jurisdiction's default,
    else yes; a critical notification always goes."""
    if critical:
        return True
    if person_override is not None:
        return person_override
    if jurisdiction_default is not None:
        return jurisdiction_default
    return True
