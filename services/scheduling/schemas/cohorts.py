"""HTTP schemas of cohorts and their sessions, with times rendered in the cohort's zone and the viewer's."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from services.scheduling.domain.sessions import FORMATS
from services.scheduling.schemas.agencies import Id, Input, Reason, Subject, TimeZone
from shared.http.fields import Text, Url
from shared.http.pagination import PageArgs, page_schema

COHORT_CAPACITY_MAX = 10_000  # seats of one cohort: also the bound of PUT /cohorts/<id>/capacity


class CohortSchema(Input):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    series_id = Id(required=True, metadata={"description": "The series (from the content service)."})
    request_id = fields.String(dump_only=True, allow_none=True)
    host_agency_id = Id(
        blank=True,
        load_default=None,
        allow_none=True,
        metadata={"description": "Required when an agency coordinator creates."},
    )
    title = Text(300, required=True)
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))
    time_zone = TimeZone(
        load_default=None,
        allow_none=True,
        metadata={"description": "Defaults to the jurisdiction's default time zone."},
    )
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=COHORT_CAPACITY_MAX))
    facilitators = fields.List(Subject(), load_default=list, validate=validate.Length(max=50))
    registration_opens_at = fields.AwareDateTime(load_default=None, allow_none=True)
    registration_closes_at = fields.AwareDateTime(load_default=None, allow_none=True)
    requires_approval = fields.Boolean(load_default=False)
    completion_minimum = fields.Integer(load_default=9, strict=True, validate=validate.Range(min=1, max=100))
    status = fields.String(
        dump_only=True,
        metadata={
            "description": "open, closed (no new registrations) or cancelled; changed only by "
            "POST /cohorts/<id>/close, /reopen and /cancel."
        },
    )
    confirmed_count = fields.Integer(dump_only=True)
    facilitator_names = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        dump_only=True,
        metadata={
            "description": "The names the facilitators are known by in the facilitators' directory, by subject "
            "(a facilitator it lacks is left out). A rename is a change of the cohort (changed_after)."
        },
    )
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class CohortUpdateSchema(Input):
    """What PATCH changes; capacity has its own endpoint because raising it promotes the waitlist."""

    title = Text(300)
    facilitators = fields.List(Subject(), validate=validate.Length(max=50))
    registration_opens_at = fields.AwareDateTime(allow_none=True)
    registration_closes_at = fields.AwareDateTime(allow_none=True)
    requires_approval = fields.Boolean()
    completion_minimum = fields.Integer(strict=True, validate=validate.Range(min=1, max=100))

    @pre_load
    def capacity_elsewhere(self, data, **kwargs):
        if isinstance(data, dict) and "capacity" in data:
            raise ValidationError({"capacity": ["Change capacity with PUT /cohorts/<id>/capacity."]})
        return data


class CohortCancelSchema(Input):
    reason = Reason(metadata={"description": "Why: given to the sessions' and registrations' cancellations."})


class CohortQueryArgs(PageArgs):
    status = Text(20, load_default=None)
    series_id = Id(load_default=None)
    host_agency_id = Id(load_default=None)
    facilitator = Subject(
        load_default=None, metadata={"description": "Only the cohorts this person (a subject) facilitates."}
    )
    session_from = fields.AwareDateTime(
        load_default=None,
        metadata={
            "description": "Only the cohorts with a scheduled (not cancelled) session starting at or after "
            "this instant: with now, the cohorts still ahead."
        },
    )
    registered = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Only the cohorts you registered for, whatever became of the registration "
            "(a participant's own cohorts)."
        },
    )


# --- sessions -----------------------------------------------------------------------------------


class PlaceSchema(Schema):
    venue_id = fields.String(dump_only=True)
    venue = fields.String(dump_only=True)
    address = fields.String(dump_only=True)
    room = fields.String(dump_only=True)
    accessibility = fields.String(dump_only=True)


class SessionMaterialSchema(Schema):
    material_id = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)
    media_type = fields.String(dump_only=True, allow_none=True)
    url = fields.String(dump_only=True, allow_none=True)
    national = fields.Boolean(dump_only=True)
    published_at = fields.AwareDateTime(dump_only=True)


class SessionSchema(Input):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    cohort_id = fields.String(dump_only=True)
    module_id = Id(required=True, metadata={"description": "The module (from the content service)."})
    module_position = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=100)
    )
    title = Text(300, required=True)
    starts_at = fields.AwareDateTime(required=True, metadata={"description": "With an offset or Z; stored UTC."})
    ends_at = fields.AwareDateTime(required=True)
    time_zone = fields.String(dump_only=True, metadata={"description": "The cohort's IANA zone."})
    local_start = fields.String(dump_only=True, metadata={"description": "In the cohort's zone, with offset."})
    local_end = fields.String(dump_only=True)
    zone_abbreviation = fields.String(dump_only=True, metadata={"example": "ChST"})
    viewer_time_zone = fields.String(
        dump_only=True, metadata={"description": "Present with ?viewer_time_zone= when it differs from the cohort's."}
    )
    viewer_start = fields.String(dump_only=True)
    viewer_end = fields.String(dump_only=True)
    viewer_zone_abbreviation = fields.String(dump_only=True)
    room_id = Id(
        blank=True, load_default=None, allow_none=True, metadata={"description": "Required in person and hybrid."}
    )
    place = fields.Nested(PlaceSchema, dump_only=True, allow_none=True)
    meeting_url = Url(
        load_default=None,
        allow_none=True,
        schemes={"https", "http"},
        require_tld=True,
        validate=validate.Length(max=2000),
        metadata={"description": "Required for virtual and hybrid sessions."},
    )
    facilitators = fields.List(
        Subject(),
        load_default=None,
        validate=validate.Length(max=20),
        metadata={"description": "Defaults to the cohort's facilitators."},
    )
    specialist = Text(200, load_default=None, allow_none=True)
    status = fields.String(dump_only=True)
    cancel_reason = fields.String(dump_only=True, allow_none=True)
    sequence = fields.Integer(dump_only=True, metadata={"description": "iCalendar SEQUENCE, bumped on each change."})
    materials = fields.List(
        fields.Nested(SessionMaterialSchema),
        dump_only=True,
        metadata={"description": "The current version of each material of the module."},
    )
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class RescheduleSchema(Input):
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    reason = Reason()


class CancelSchema(Input):
    reason = Reason()


class ViewerArgs(Input):
    viewer_time_zone = TimeZone(
        load_default=None,
        metadata={"description": "Also render the times in this IANA zone (viewer_start, viewer_end)."},
    )


class SessionQueryArgs(PageArgs, ViewerArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(["scheduled", "cancelled"]))


class JurisdictionSessionQueryArgs(SessionQueryArgs):
    cohort_id = Id(blank=True, load_default=None)
    starts_from = fields.AwareDateTime(
        load_default=None, data_key="from", metadata={"description": "Sessions starting at or after this instant."}
    )
    starts_before = fields.AwareDateTime(
        load_default=None, data_key="to", metadata={"description": "Sessions starting before this instant."}
    )
    facilitator = Subject(
        load_default=None,
        metadata={"description": "Only the sessions this person (a subject) facilitates, or supports as specialist."},
    )
    registered = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Only the sessions of the cohorts in which you hold a confirmed registration "
            "(a participant's own schedule)."
        },
    )


CohortPage = page_schema(CohortSchema, "CohortPage")
SessionPage = page_schema(SessionSchema, "SessionPage")
