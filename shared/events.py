"""The catalogue of event types: each type, its version and the marshmallow schema of its data.

Types are ``<source>.<entity>.<past verb>`` and stable forever; a breaking change to a payload is a
new version, never an edit of the old schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import RAISE, Schema, fields, validate

from shared.jurisdictions import CODE_PATTERN

MATERIAL_KINDS = (
    "slide_deck",
    "facilitator_guide",
    "participant_worksheet",
    "resource",
    "learning_activity",
    "video_link",
)
COMPONENT_DECISIONS = ("kept", "adapted", "dropped")
REVIEW_DECISIONS = ("approved", "changes_requested")


class EventData(Schema):
    class Meta:
        unknown = RAISE


class MaterialPublished(EventData):
    material_id = fields.String(required=True)
    module_id = fields.String(required=True)
    series_id = fields.String(required=True)
    series_title = fields.String(allow_none=True, load_default=None)
    module_position = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(MATERIAL_KINDS))
    title = fields.String(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    media_type = fields.String(allow_none=True, load_default=None)
    size = fields.Integer(allow_none=True, load_default=None)
    sha256 = fields.String(allow_none=True, load_default=None)
    url = fields.String(allow_none=True, load_default=None)
    national = fields.Boolean(required=True)
    published_by = fields.String(required=True)


class AdaptationSubmitted(EventData):
    adaptation_id = fields.String(required=True)
    module_id = fields.String(required=True)
    module_position = fields.Integer(allow_none=True, load_default=None)
    module_title = fields.String(allow_none=True, load_default=None)
    title = fields.String(required=True)
    facilitator = fields.String(required=True)
    facilitator_name = fields.String(allow_none=True, load_default=None)
    revision = fields.Integer(required=True)
    components = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class AdaptationReviewed(EventData):
    adaptation_id = fields.String(required=True)
    module_id = fields.String(required=True)
    facilitator = fields.String(required=True)
    reviewer = fields.String(required=True)
    reviewer_name = fields.String(allow_none=True, load_default=None)
    revision = fields.Integer(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(REVIEW_DECISIONS))
    comments = fields.String(load_default="")


COMMUNITY_FOCUS_AREAS = ("specialist_networks", "credentials", "quality_rating_systems", "other")
COMMUNITY_STATUSES = ("convening", "active", "closing", "closed")
COMMUNITY_MEMBER_KINDS = ("team_member", "staff", "guest_expert")
LANGUAGES = ("en", "es")


class CommunityChanged(EventData):
    community_id = fields.String(required=True)
    title = fields.String(required=True)
    focus_area = fields.String(required=True, validate=validate.OneOf(COMMUNITY_FOCUS_AREAS))
    status = fields.String(required=True, validate=validate.OneOf(COMMUNITY_STATUSES))
    starts_on = fields.Date(required=True)
    planned_months = fields.Integer(required=True, validate=validate.Range(min=1))
    facilitators = fields.List(fields.String(), required=True)
    time_zone = fields.String(required=True)


class CommunityMembership(EventData):
    community_id = fields.String(required=True)
    community_title = fields.String(required=True)
    member = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(COMMUNITY_MEMBER_KINDS))
    jurisdiction = fields.String(required=True, allow_none=True, validate=validate.Regexp(CODE_PATTERN))
    name = fields.String(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    time_zone = fields.String(required=True, allow_none=True)
    language = fields.String(required=True, allow_none=True, validate=validate.OneOf(LANGUAGES))


class ThreadReplied(EventData):
    community_id = fields.String(required=True)
    community_title = fields.String(required=True)
    thread_id = fields.String(required=True)
    thread_title = fields.String(required=True)
    reply_id = fields.String(required=True)
    author = fields.String(required=True)
    author_name = fields.String(required=True, allow_none=True)
    excerpt = fields.String(required=True, validate=validate.Length(max=280))
    followers = fields.List(fields.String(), required=True)
    replied_at = fields.AwareDateTime(required=True)


class SynthesisPublished(EventData):
    community_id = fields.String(required=True)
    community_title = fields.String(required=True)
    synthesis_id = fields.String(required=True)
    title = fields.String(required=True)
    published_at = fields.AwareDateTime(required=True)


DELIVERY_FORMATS = ("in_person", "virtual", "hybrid")


class Window(EventData):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class RequestSubmitted(EventData):
    request_id = fields.String(required=True)
    series_id = fields.String(required=True)
    format = fields.String(required=True, validate=validate.OneOf(DELIVERY_FORMATS))
    expected_participants = fields.Integer(required=True)
    host_agency_id = fields.String(allow_none=True, load_default=None)
    preferred_windows = fields.List(fields.Nested(Window), load_default=list)
    requested_by = fields.String(required=True)


class RequestApproved(EventData):
    request_id = fields.String(required=True)
    cohort_id = fields.String(required=True)
    decided_by = fields.String(required=True)
    requested_by = fields.String(allow_none=True, load_default=None)


class RequestDeclined(EventData):
    request_id = fields.String(required=True)
    reason = fields.String(required=True)
    decided_by = fields.String(required=True)
    requested_by = fields.String(allow_none=True, load_default=None)


class Place(EventData):
    venue = fields.String(required=True)
    address = fields.String(required=True)
    room = fields.String(allow_none=True, load_default=None)
    accessibility = fields.String(load_default="")


class SessionChanged(EventData):
    """Everything a notifier needs to tell people about a session, without calling back."""

    session_id = fields.String(required=True)
    cohort_id = fields.String(required=True)
    series_id = fields.String(required=True)
    module_id = fields.String(allow_none=True, load_default=None)
    module_position = fields.Integer(allow_none=True, load_default=None)
    title = fields.String(required=True)
    format = fields.String(required=True, validate=validate.OneOf(DELIVERY_FORMATS))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    time_zone = fields.String(required=True)
    local_start = fields.String(required=True)
    local_end = fields.String(required=True)
    place = fields.Nested(Place, allow_none=True, load_default=None)
    meeting_url = fields.String(allow_none=True, load_default=None)
    facilitators = fields.List(fields.String(), load_default=list)
    registrant_ids = fields.List(fields.String(), load_default=list)
    sequence = fields.Integer(required=True)
    reason = fields.String(allow_none=True, load_default=None)
    previous_starts_at = fields.AwareDateTime(allow_none=True, load_default=None)


class RegistrationChanged(EventData):
    registration_id = fields.String(required=True)
    cohort_id = fields.String(required=True)
    participant = fields.String(required=True)
    email = fields.String(allow_none=True, load_default=None)
    status = fields.String(required=True)
    waitlist_position = fields.Integer(allow_none=True, load_default=None)
    by = fields.String(required=True)
    # Added later: events published before carry neither, and a consumer falls back to its own words.
    cohort_title = fields.String(allow_none=True, load_default=None)
    cohort_time_zone = fields.String(allow_none=True, load_default=None)
    participant_name = fields.String(allow_none=True, load_default=None)
    # When the name and e-mail were given: the latest given wins (null in older events and older registrations).
    contact_given_at = fields.AwareDateTime(allow_none=True, load_default=None)
    # The language the person reads e-mails in, when they said at registering (null: not said).
    participant_language = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(LANGUAGES))


class AttendanceRecorded(EventData):
    session_id = fields.String(required=True)
    cohort_id = fields.String(required=True)
    registration_id = fields.String(required=True)
    participant = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("present", "absent", "partial")))
    minutes = fields.Integer(required=True)
    recorded_by = fields.String(required=True)


class ParticipantCompleted(EventData):
    cohort_id = fields.String(required=True)
    series_id = fields.String(required=True)
    registration_id = fields.String(required=True)
    participant = fields.String(required=True)
    registry_id = fields.String(allow_none=True, load_default=None)
    sessions_attended = fields.Integer(required=True)
    hours = fields.Float(required=True)
    completed_at = fields.AwareDateTime(required=True)
    certificate_code = fields.String(required=True)
    # Added later: a completion published before carries no name, and a consumer shows the participant's id.
    participant_name = fields.String(allow_none=True, load_default=None)
    # Added later still: the cohort's title, which the participant's e-mail names (absent before).
    cohort_title = fields.String(allow_none=True, load_default=None)


class JurisdictionAdded(EventData):
    """A Tribe a national admin added: a new tenant every service must let in."""

    code = fields.String(required=True, validate=validate.Regexp(CODE_PATTERN))
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("state", "territory", "tribe")))
    default_time_zone = fields.String(required=True)


OFFICE_HOUR_CANCELLATIONS = (
    "booking_cancelled",
    "occurrence_cancelled",
    "office_hours_cancelled",
    "office_hours_changed",
)


class OfficeHourBooked(EventData):
    """A facilitator booked a slot of a specialist's office hours."""

    booking_id = fields.String(required=True)
    series_id = fields.String(required=True)
    specialist = fields.String(required=True)
    facilitator = fields.String(required=True)
    slot_start = fields.AwareDateTime(required=True)
    slot_end = fields.AwareDateTime(required=True)
    time_zone = fields.String(required=True)
    topic = fields.String(load_default="")


class OfficeHourCancelled(OfficeHourBooked):
    """A booked slot that will not take place, and why."""

    reason = fields.String(required=True, validate=validate.OneOf(OFFICE_HOUR_CANCELLATIONS))
    cancelled_by = fields.String(required=True)


COMMITMENT_STATUSES = ("on_track", "due_soon", "overdue", "fulfilled")


class PlanCreated(EventData):
    plan_id = fields.String(required=True)
    commitment_id = fields.String(required=True)
    trainer = fields.String(required=True)
    trainer_name = fields.String(allow_none=True, load_default=None)
    specialist = fields.String(allow_none=True, load_default=None)
    specialist_name = fields.String(allow_none=True, load_default=None)
    series_id = fields.String(required=True)
    cohort_id = fields.String(required=True)
    registration_id = fields.String(required=True)
    completed_at = fields.AwareDateTime(required=True)
    due_on = fields.Date(required=True)
    time_frame_months = fields.Integer(required=True)


class ActivityLogged(EventData):
    """A support activity completed by its author; never its confidential notes."""

    activity_id = fields.String(required=True)
    trainer = fields.String(required=True)
    author = fields.String(required=True)
    kind = fields.String(required=True)
    occurred_on = fields.Date(required=True)
    duration_minutes = fields.Integer(required=True)
    mode = fields.String(required=True)
    practices = fields.List(fields.String(), load_default=list)
    follow_up_on = fields.Date(allow_none=True, load_default=None)


class CommitmentNotice(EventData):
    """A commitment due soon (``days_before`` 30 or 7), overdue or fulfilled."""

    commitment_id = fields.String(required=True)
    plan_id = fields.String(required=True)
    trainer = fields.String(required=True)
    specialist = fields.String(allow_none=True, load_default=None)
    due_on = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(COMMITMENT_STATUSES))
    days_before = fields.Integer(allow_none=True, load_default=None)
    fulfilled_on = fields.Date(allow_none=True, load_default=None)


class SpecialistAssigned(EventData):
    """A jurisdiction admin gave a trainer's plan another specialist (never the same one again)."""

    plan_id = fields.String(required=True)
    trainer = fields.String(required=True)
    trainer_name = fields.String(allow_none=True, load_default=None)
    specialist = fields.String(required=True)
    specialist_name = fields.String(allow_none=True, load_default=None)
    previous_specialist = fields.String(allow_none=True, load_default=None)
    due_on = fields.Date(required=True)


class DefaultSpecialistChanged(EventData):
    """Whom a jurisdiction's new plans get as their specialist changed: an admin chose another default (or
    none), or withdrew the default or offered them again. ``None``: nobody."""

    default_specialist = fields.String(allow_none=True, load_default=None)
    default_specialist_name = fields.String(allow_none=True, load_default=None)


class WebhookTested(EventData):
    """A jurisdiction admin asked notifications to send a test message to one webhook endpoint (never
    published on the bus: it goes to that endpoint only)."""

    subscription_id = fields.String(required=True)
    url = fields.String(required=True)
    requested_by = fields.String(required=True)


class FollowupDue(EventData):
    activity_id = fields.String(required=True)
    trainer = fields.String(required=True)
    author = fields.String(required=True)
    follow_up_on = fields.Date(required=True)


COMMUNITY_CALL_KINDS = ("interactive_call", "expert_session", "face_to_face", "audio_conference")


class Registrant(EventData):
    person = fields.String(required=True)
    tenant = fields.String(required=True)
    name = fields.String(allow_none=True, load_default=None)
    email = fields.String(allow_none=True, load_default=None)


class CommunityCallChanged(EventData):
    """One occurrence of a community's calls (or a national audio-conference) scheduled, moved or cancelled;
    shaped like ``scheduling.session.*`` so a notifier needs nothing else."""

    call_id = fields.String(required=True)
    community_id = fields.String(allow_none=True, load_default=None)  # None for an audio-conference
    community_title = fields.String(allow_none=True, load_default=None)
    kind = fields.String(required=True, validate=validate.OneOf(COMMUNITY_CALL_KINDS))
    title = fields.String(required=True)
    agenda = fields.String(load_default="")
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    time_zone = fields.String(required=True)
    local_start = fields.String(required=True)
    local_end = fields.String(required=True)
    place = fields.Nested(Place, allow_none=True, load_default=None)
    meeting_url = fields.String(allow_none=True, load_default=None)
    invitees = fields.List(fields.String(), load_default=list)
    sequence = fields.Integer(required=True)
    reason = fields.String(allow_none=True, load_default=None)
    previous_starts_at = fields.AwareDateTime(allow_none=True, load_default=None)
    # An audio-conference's registration only: who registered and the address they gave (may be null).
    registrant = fields.Nested(Registrant, allow_none=True, load_default=None)


@dataclass(frozen=True)
class EventSpec:
    schema: type[Schema]
    version: int = 1


CATALOGUE: dict[str, EventSpec] = {
    "content.material.published": EventSpec(MaterialPublished),
    "content.adaptation.submitted": EventSpec(AdaptationSubmitted),
    "content.adaptation.reviewed": EventSpec(AdaptationReviewed),
    "content.community.convened": EventSpec(CommunityChanged),
    "content.community.updated": EventSpec(CommunityChanged),
    "content.community.member_joined": EventSpec(CommunityMembership),
    "content.community.member_left": EventSpec(CommunityMembership),
    "content.thread.replied": EventSpec(ThreadReplied),
    "content.synthesis.published": EventSpec(SynthesisPublished),
    "scheduling.jurisdiction.added": EventSpec(JurisdictionAdded),
    "scheduling.request.submitted": EventSpec(RequestSubmitted),
    "scheduling.request.approved": EventSpec(RequestApproved),
    "scheduling.request.declined": EventSpec(RequestDeclined),
    "scheduling.session.scheduled": EventSpec(SessionChanged),
    "scheduling.session.rescheduled": EventSpec(SessionChanged),
    "scheduling.session.cancelled": EventSpec(SessionChanged),
    "scheduling.registration.confirmed": EventSpec(RegistrationChanged),
    "scheduling.registration.waitlisted": EventSpec(RegistrationChanged),
    "scheduling.registration.promoted": EventSpec(RegistrationChanged),
    "scheduling.registration.cancelled": EventSpec(RegistrationChanged),
    "scheduling.attendance.recorded": EventSpec(AttendanceRecorded),
    "scheduling.participant.completed": EventSpec(ParticipantCompleted),
    "scheduling.office_hour.booked": EventSpec(OfficeHourBooked),
    "scheduling.office_hour.cancelled": EventSpec(OfficeHourCancelled),
    "scheduling.community_call.scheduled": EventSpec(CommunityCallChanged),
    "scheduling.community_call.rescheduled": EventSpec(CommunityCallChanged),
    "scheduling.community_call.cancelled": EventSpec(CommunityCallChanged),
    "coaching.plan.created": EventSpec(PlanCreated),
    "coaching.plan.specialist_assigned": EventSpec(SpecialistAssigned),
    "coaching.activity.logged": EventSpec(ActivityLogged),
    "coaching.commitment.due_soon": EventSpec(CommitmentNotice),
    "coaching.commitment.overdue": EventSpec(CommitmentNotice),
    "coaching.commitment.fulfilled": EventSpec(CommitmentNotice),
    "coaching.followup.due": EventSpec(FollowupDue),
    "coaching.default_specialist.changed": EventSpec(DefaultSpecialistChanged),
    "notifications.webhook.tested": EventSpec(WebhookTested),
}


def dataschema_for(type_: str) -> str:
    spec = CATALOGUE[type_]
    return f"urn:t4t:event:{type_}:v{spec.version}"
