"""The portal page an e-mail is about, so that the message links to where its reader acts on it.

A participant's registration or session leads to My training and their completion to the certificate, a
facilitator's session to My sessions, a trainer's commitment to My commitment and the specialist's copy of
it to that trainer's page, a disabled webhook to the admin's Webhooks page. A kind with no page of its
reader's in the portal (a digest) has none, nor has a message to an address that is no person of the
platform (a webhook's contact).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Page:
    path: str  # the portal's path, from its root
    label: str  # which of the layout's link labels names it


def _segment(value) -> str:
    # A user id like "auth0|rosa" is one path segment.
    return quote(str(value), safe="")


PARTICIPANT = ("registration_confirmed", "registration_waitlisted", "registration_promoted", "registration_cancelled")
SESSION = ("session_scheduled", "session_rescheduled", "session_cancelled", "session_reminder")
TRAINER = ("plan_opened", "specialist_assigned", "commitment_due_soon", "commitment_overdue", "commitment_fulfilled")
CALL = (
    "community_call_scheduled",
    "community_call_rescheduled",
    "community_call_cancelled",
    "community_call_reminder",
)


def page_of(template: str, data: dict | None, person: str | None) -> Page | None:
    """The page of the portal that ``person`` opens about this message (``data``: the event's, or the
    session's or call's for a reminder); ``None`` where the portal has none for them."""
    if data is None or person is None:
        return None
    if template in PARTICIPANT:
        return Page("/my/training", "open_training")
    if template in SESSION:
        if person in (data.get("facilitators") or []):
            return Page("/my/sessions", "open_sessions")
        return Page("/my/training", "open_training")
    if template == "training_completed" and data.get("registration_id"):
        return Page(f"/registrations/{_segment(data['registration_id'])}/certificate.pdf", "open_certificate")
    if template == "adaptation_submitted":
        return Page("/coach/adaptations", "open_reviews")
    if template == "adaptation_reviewed" and data.get("adaptation_id"):
        return Page(f"/my/adaptations/{_segment(data['adaptation_id'])}", "open_adaptation")
    if template in ("request_approved", "request_declined"):
        return Page("/requests", "open_requests")
    if template in TRAINER or template == "followup_due":
        trainer = data.get("trainer")
        if not trainer:
            return None
        if person == trainer:
            return Page("/my/commitment", "open_commitment")
        return Page(f"/coach/trainers/{_segment(trainer)}", "open_trainer")
    if template in CALL and data.get("call_id"):
        if data.get("community_id"):
            return Page(f"/communities/{_segment(data['community_id'])}/calls/{_segment(data['call_id'])}", "open_call")
        return Page(f"/audio-conferences/{_segment(data['call_id'])}", "open_call")
    if template == "thread_replied" and data.get("community_id") and data.get("thread_id"):
        return Page(
            f"/communities/{_segment(data['community_id'])}/threads/{_segment(data['thread_id'])}", "open_thread"
        )
    if template == "synthesis_published" and data.get("synthesis_id"):
        return Page(f"/syntheses/{_segment(data['synthesis_id'])}", "open_synthesis")
    if template == "webhook_disabled":
        return Page("/webhooks", "open_webhooks")  # the admin who subscribed it; its contact address has no person
    if template == "community_left":
        return Page("/communities", "open_communities")
    return None
