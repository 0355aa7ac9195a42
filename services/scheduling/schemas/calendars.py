"""HTTP schemas of private calendar feeds."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.scheduling.use_cases.calendars import FEED_KINDS
from shared.http.fields import Text
from shared.http.pagination import page_schema


class CalendarFeedSchema(Schema):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    kind = fields.String(
        required=True,
        validate=validate.OneOf(FEED_KINDS),
        metadata={
            "description": "cohort: a cohort's sessions; participant: the sessions of your confirmed registrations; "
            "facilitator: the sessions you facilitate. Both personal feeds add your office-hour "
            "bookings and the recurring series you hold."
        },
    )
    subject = Text(
        200,
        load_default=None,
        metadata={"description": "The cohort id of a cohort feed; a personal feed is always yours (defaults to you)."},
    )
    created_by = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    revoked = fields.Boolean(dump_only=True)


class CreatedCalendarFeedSchema(CalendarFeedSchema):
    token = fields.String(dump_only=True, metadata={"description": "Shown this once; only its hash is kept."})
    url = fields.String(
        dump_only=True,
        metadata={
            "description": "The private address to subscribe to (text/calendar); anyone holding it can read the feed."
        },
    )


CalendarFeedPage = page_schema(CalendarFeedSchema, "CalendarFeedPage")
