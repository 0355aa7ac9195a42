"""HTTP schemas of community calls and meetings, their attendance, feeds, and national audio-conferences."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.scheduling.domain.communities import ALL_KINDS, CALL_KINDS, DEFAULT_CALL_MINUTES, MARKS, MAX_CALL_MINUTES
from services.scheduling.schemas.agencies import Subject, TimeZone
from services.scheduling.schemas.recurring import UtcDateTime, _local_start, _meeting_url, _rrule
from shared.http.fields import Email, Text, Url
from shared.http.pagination import PageArgs, page_schema


def CallMinutes(**kw) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=5, max=MAX_CALL_MINUTES), **kw)


class MeetingPlaceSchema(Schema):
    """Where a face-to-face meeting is held."""

    venue = Text(300, required=True)
    address = Text(1000, required=True)
    room = Text(200, allow_none=True, load_default=None)
    accessibility = Text(2000, multiline=True, blank=True, load_default="")


class CommunityCallSchema(Schema):
    """One call or meeting (one occurrence of a recurring programme), or a national audio-conference."""

    id = fields.String(dump_only=True)
    community_id = fields.String(dump_only=True, allow_none=True)
    series_id = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "Groups the calls one recurrence rule made."}
    )
    rrule = fields.String(dump_only=True, allow_none=True)
    kind = fields.String(dump_only=True, metadata={"enum": list(ALL_KINDS)})
    title = fields.String(dump_only=True)
    agenda = fields.String(dump_only=True)
    minutes = fields.String(dump_only=True)
    starts_at = fields.AwareDateTime(dump_only=True)
    ends_at = fields.AwareDateTime(dump_only=True)
    duration_minutes = fields.Integer(dump_only=True)
    time_zone = fields.String(dump_only=True)
    local_start = fields.String(dump_only=True, metadata={"example": "2027-01-12T14:00:00-05:00"})
    local_end = fields.String(dump_only=True)
    zone_abbreviation = fields.String(dump_only=True, metadata={"example": "EST"})
    place = fields.Nested(MeetingPlaceSchema, dump_only=True, allow_none=True)
    meeting_url = fields.String(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"description": "scheduled or cancelled"})
    cancel_reason = fields.String(dump_only=True, allow_none=True)
    sequence = fields.Integer(
        dump_only=True, metadata={"description": "iCalendar SEQUENCE, bumped on each move or cancel."}
    )
    created_by = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


CommunityCallPage = page_schema(CommunityCallSchema, "CommunityCallPage")


class ScheduleCallsSchema(Schema):
    """A call or meeting, once or on a recurrence rule (one call per occurrence)."""

    kind = fields.String(required=True, validate=validate.OneOf(CALL_KINDS))
    title = Text(300, required=True)
    agenda = Text(20000, multiline=True, blank=True, load_default="")
    time_zone = TimeZone(load_default=None, metadata={"description": "IANA zone; the community's by default."})
    local_start = _local_start(required=True)
    duration_minutes = CallMinutes(load_default=DEFAULT_CALL_MINUTES)
    rrule = _rrule(load_default=None, allow_none=True)
    meeting_url = _meeting_url(load_default=None)
    place = fields.Nested(MeetingPlaceSchema, load_default=None, allow_none=True)


class ScheduledCallsSchema(Schema):
    series_id = fields.String(dump_only=True, allow_none=True)
    rrule = fields.String(dump_only=True, allow_none=True)
    calls = fields.List(fields.Nested(CommunityCallSchema), dump_only=True)


class CallQueryArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(("scheduled", "cancelled")))


class CallChangeSchema(Schema):
    """Move, lengthen or cancel this one call, or set its agenda or minutes."""

    starts_at = UtcDateTime()
    duration_minutes = CallMinutes()
    cancelled = fields.Boolean(validate=validate.Equal(True, error="Send true to cancel; a cancelled call stays so."))
    reason = Text(5000, multiline=True)
    agenda = Text(20000, multiline=True, blank=True)
    minutes = Text(100000, multiline=True, blank=True)

    @validates_schema
    def one_change(self, data, **kwargs):
        if not data or set(data) == {"reason"}:
            raise ValidationError("Give starts_at, duration_minutes, cancelled, agenda or minutes.", "_schema")
        if data.get("cancelled") and ("starts_at" in data or "duration_minutes" in data):
            raise ValidationError("A cancelled call has no new time.", "cancelled")


class MarkSchema(Schema):
    person = Subject(required=True)
    status = fields.String(required=True, validate=validate.OneOf(MARKS))
    recorded_by = fields.String(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class AttendanceSchema(Schema):
    call_id = fields.String(dump_only=True)
    marks = fields.List(fields.Nested(MarkSchema), required=True, validate=validate.Length(min=1, max=500))


class CommunityFeedSchema(Schema):
    id = fields.String(dump_only=True)
    community_id = fields.String(dump_only=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    token = fields.String(dump_only=True, metadata={"description": "Shown this once; only its hash is kept."})
    url = fields.String(dump_only=True, metadata={"description": "The feed's address, to give a calendar application."})


class FeedArgs(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class AudioConferenceSchema(Schema):
    title = Text(300, required=True)
    agenda = Text(20000, multiline=True, blank=True, load_default="")
    starts_at = UtcDateTime(required=True)
    duration_minutes = CallMinutes(load_default=60)
    time_zone = TimeZone(load_default="America/New_York", metadata={"description": "The zone it is announced in."})
    meeting_url = Url(schemes={"https", "http"}, required=True, validate=validate.Length(max=2000))


class AudioConferenceQueryArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(("scheduled", "cancelled")))


class AudioConferenceRegistrationSchema(Schema):
    id = fields.String(dump_only=True)
    call_id = fields.String(dump_only=True)
    person = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    name = Text(300, blank=True, load_default="", metadata={"description": "How to name you on the call."})
    email = Email(
        load_only=True,
        load_default=None,
        validate=validate.Length(max=320),
        metadata={
            "description": "Where to send your invitation and the conference's changes, if the platform has no "
            "address for you yet (it is passed on to the notifications service, not kept with the registration)."
        },
    )
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


RegistrationPage = page_schema(AudioConferenceRegistrationSchema, "AudioConferenceRegistrationPage")
