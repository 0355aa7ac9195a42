"""HTTP schemas of recurring series, their occurrences, office-hour slots and bookings."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.scheduling.domain.recurrence import HORIZON_TEXT, KINDS, MAX_COUNT
from services.scheduling.schemas.agencies import Subject, TimeZone
from shared.http.fields import Text, Url
from shared.http.pagination import PageArgs, page_schema


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 date-time with an offset (or Z), loaded as UTC; years 1900 to 2999, so that
    arithmetic on it never leaves Python's datetime range."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not 1900 <= moment.year <= 2999:
            raise ValidationError("Give a date-time between the years 1900 and 2999.")
        return moment.astimezone(UTC)


LOCAL_DATE_TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$"
DST_RULE = (
    "Occurrences keep this local wall time in time_zone across daylight-saving changes (RFC 5545): a time "
    "that happens twice when clocks fall back is its first instance, and a time skipped when clocks spring "
    "forward moves on by the gap (02:30 becomes 03:30); starts_at and ends_at give each occurrence's instant."
)


class LocalDateTime(fields.NaiveDateTime):
    """A wall time without offset, read in the series' zone; stored and shown as YYYY-MM-DDTHH:MM:SS.

    It is not an RFC 3339 date-time (which needs an offset): the OpenAPI document declares it as a string
    of this pattern (the service registers the field as such).
    """

    def _serialize(self, value, attr, obj, **kwargs):
        return value if isinstance(value, str) or value is None else value.isoformat(timespec="seconds")


def _local_start(**kw) -> LocalDateTime:
    return LocalDateTime(
        metadata={
            "description": "Local wall time of the first occurrence in time_zone, without offset "
            f"(YYYY-MM-DDTHH:MM:SS); it must be an occurrence of the rule. {DST_RULE}",
            "pattern": LOCAL_DATE_TIME_PATTERN,
            "example": "2026-10-27T10:00:00",
        },
        **kw,
    )


def _rrule(**kw) -> fields.String:
    return Text(
        500,
        metadata={
            "description": "An RFC 5545 RRULE value. FREQ is required (DAILY to YEARLY); COUNT (at most "
            f"{MAX_COUNT}) or UNTIL bound it, and every occurrence must start within {HORIZON_TEXT} of "
            f"local_start: an open rule is closed {HORIZON_TEXT} after local_start, and a longer "
            "series continues with a split. UNTIL is stored in UTC.",
            "example": "FREQ=WEEKLY;BYDAY=TU;COUNT=12",
        },
        **kw,
    )


def _meeting_url(**kw) -> Url:
    return Url(schemes={"https", "http"}, allow_none=True, validate=validate.Length(max=2000), **kw)


def Duration(**kw) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=5, max=1440), **kw)


def SlotMinutes(**kw) -> fields.Integer:
    return fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=5, max=480), **kw)


def Facilitators(**kw) -> fields.List:
    return fields.List(Subject(), validate=validate.Length(max=200), **kw)


class RecurringSeriesSchema(Schema):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    owner = fields.String(dump_only=True, metadata={"description": "The specialist or convener: the creator."})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = Text(300, required=True)
    time_zone = TimeZone(required=True)
    local_start = _local_start(required=True)
    duration_minutes = Duration(required=True)
    rrule = _rrule(required=True)
    meeting_url = _meeting_url(load_default=None)
    supported_facilitators = Facilitators(
        load_default=list, metadata={"description": "Office hours: the facilitators (subs) who may book slots."}
    )
    slot_minutes = SlotMinutes(load_default=None, metadata={"description": "Office hours: length of a slot."})
    status = fields.String(dump_only=True)
    sequence = fields.Integer(dump_only=True, metadata={"description": "iCalendar SEQUENCE, bumped on each change."})
    split_from = fields.String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class RecurringSeriesUpdateSchema(Schema):
    """What changes without moving occurrences; times change per occurrence or with a split."""

    title = Text(300)
    meeting_url = _meeting_url()
    supported_facilitators = Facilitators()


class RecurringSeriesQueryArgs(PageArgs):
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    owner = Subject(load_default=None)


RecurringSeriesPage = page_schema(RecurringSeriesSchema, "RecurringSeriesPage")


class WindowArgs(Schema):
    start = UtcDateTime(data_key="from", load_default=None, metadata={"description": "Inclusive, with offset."})
    end = UtcDateTime(data_key="to", load_default=None, metadata={"description": "Exclusive, with offset."})


class OccurrenceSchema(Schema):
    series_id = fields.String(dump_only=True)
    original_start = fields.AwareDateTime(
        dump_only=True,
        metadata={"description": "Where the rule put it (UTC): the occurrence's id and its iCalendar RECURRENCE-ID."},
    )
    starts_at = fields.AwareDateTime(dump_only=True)
    ends_at = fields.AwareDateTime(dump_only=True)
    local_start = fields.String(dump_only=True, metadata={"example": "2026-11-03T10:00:00-08:00"})
    local_end = fields.String(dump_only=True)
    time_zone = fields.String(dump_only=True)
    zone_abbreviation = fields.String(dump_only=True, metadata={"example": "PST"})
    status = fields.String(dump_only=True, metadata={"description": "scheduled, moved or cancelled"})
    sequence = fields.Integer(dump_only=True)


class OccurrenceListSchema(Schema):
    items = fields.List(fields.Nested(OccurrenceSchema), dump_only=True)


class OccurrenceChangeSchema(Schema):
    """Move one occurrence, change its length, cancel it, or (cancelled: false) put it back."""

    starts_at = UtcDateTime()
    duration_minutes = Duration()
    cancelled = fields.Boolean()

    @validates_schema
    def one_change(self, data, **kwargs):
        if not data:
            raise ValidationError("Give starts_at, duration_minutes or cancelled.", "_schema")
        if data.get("cancelled") and ("starts_at" in data or "duration_minutes" in data):
            raise ValidationError("A cancelled occurrence has no new time.", "cancelled")


class SplitSchema(Schema):
    """This and following: the series ends before ``at`` and a new series continues from it."""

    at = UtcDateTime(
        required=True, metadata={"description": "original_start of the occurrence from which the new settings apply."}
    )
    title = Text(300)
    time_zone = TimeZone()
    local_start = _local_start()
    duration_minutes = Duration()
    rrule = _rrule()
    meeting_url = _meeting_url()
    supported_facilitators = Facilitators()
    slot_minutes = SlotMinutes()


class SplitResultSchema(Schema):
    ended = fields.Nested(RecurringSeriesSchema, dump_only=True)
    series = fields.Nested(RecurringSeriesSchema, dump_only=True)


class OfficeHourBookingSchema(Schema):
    id = fields.String(dump_only=True)
    series_id = fields.String(dump_only=True)
    slot_start = UtcDateTime(required=True)
    slot_end = fields.AwareDateTime(dump_only=True)
    facilitator = fields.String(dump_only=True)
    facilitator_name = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "As the facilitator signed in when booking."}
    )
    topic = Text(2000, multiline=True, blank=True, load_default="")
    status = fields.String(dump_only=True, metadata={"description": "booked or cancelled"})
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


OfficeHourBookingPage = page_schema(OfficeHourBookingSchema, "OfficeHourBookingPage")


class SlotSchema(Schema):
    starts_at = fields.AwareDateTime(dump_only=True)
    ends_at = fields.AwareDateTime(dump_only=True)
    local_start = fields.String(dump_only=True)
    local_end = fields.String(dump_only=True)
    occurrence_start = fields.AwareDateTime(
        dump_only=True, metadata={"description": "The occurrence's original_start."}
    )
    available = fields.Boolean(dump_only=True)
    booking = fields.Nested(
        OfficeHourBookingSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": "Shown to the specialist, admins and the facilitator who booked it."},
    )


class SlotListSchema(Schema):
    items = fields.List(fields.Nested(SlotSchema), dump_only=True)
