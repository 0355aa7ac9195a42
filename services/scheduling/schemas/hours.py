"""HTTP schemas of the training-hours export for state registries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from services.scheduling.domain import attendance as rules
from shared.http.fields import Text
from shared.http.pagination import PageArgs, page_schema

VERIFICATIONS = ("verified", "self_reported")


# Far enough for any registry; keeps the local-midnight arithmetic of every time zone within datetime's range.
DATES = validate.Range(min=date(1900, 1, 1), max=date(9998, 12, 31))
# UTC+14 (Kiribati) is the earliest calendar on Earth: a date is in the future once it is past there.
EARLIEST_ZONE = timedelta(hours=14)


class TrainingHoursArgs(PageArgs):
    from_ = fields.Date(
        data_key="from",
        load_default=None,
        validate=DATES,
        metadata={"description": "Only sessions on or after this date (YYYY-MM-DD, in each cohort's time zone)."},
    )
    to = fields.Date(
        load_default=None,
        validate=DATES,
        metadata={"description": "Only sessions on or before this date (YYYY-MM-DD, in each cohort's time zone)."},
    )
    jurisdiction = Text(
        40,
        load_default=None,
        metadata={"description": "A jurisdiction code; national admins use it to export one jurisdiction."},
    )
    format = fields.String(
        load_default=None,
        validate=validate.OneOf(("json", "csv")),
        metadata={"description": "csv for text/csv (same as Accept: text/csv); json otherwise."},
    )

    @validates_schema
    def _range(self, data, **_kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("Must be on or after from.", field_name="to")


class TrainingHoursRowSchema(Schema):
    registration_id = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The registration credited (verified rows); else null."},
    )
    self_reported_id = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The self-reported entry (self-reported rows); else null."},
    )
    participant = fields.String(dump_only=True, metadata={"description": "The person's id (token sub or roster key)."})
    name = fields.String(dump_only=True)
    registry_id = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "The person's id in the state registry, when known."}
    )
    jurisdiction = fields.String(dump_only=True)
    cohort_id = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The cohort; on a self-reported row only when the person named one, else null."},
    )
    hours = fields.Float(
        dump_only=True,
        metadata={
            "description": "Hours from the minutes attended (verified) or reported (self-reported), to the hundredth."
        },
    )
    minutes = fields.Integer(dump_only=True)
    sessions_attended = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Sessions present or partial; null on self-reported rows."},
    )
    completed = fields.Boolean(dump_only=True)
    completed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    verification = fields.String(
        dump_only=True,
        metadata={
            "enum": list(VERIFICATIONS),
            "description": "verified: credited from attendance taken by the session's facilitators or managers. "
            "self_reported: training the person (or their jurisdiction admin) reports having taken "
            "elsewhere, without attendance records here.",
        },
    )
    title = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "Self-reported rows: the training."}
    )
    provider = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "Self-reported rows: who gave the training."}
    )
    completed_on = fields.Date(
        dump_only=True, allow_none=True, metadata={"description": "Self-reported rows: the day it was completed."}
    )
    updated_at = fields.AwareDateTime(
        dump_only=True,
        metadata={
            "description": "Latest change to the row's attendance, sessions, cohort, completion or registration, or "
            "to the self-reported entry."
        },
    )
    status = fields.String(
        dump_only=True,
        metadata={
            "enum": ["active", "voided"],
            "description": "active: the row counts. voided: a tombstone, in incremental exports only (changed_after, "
            "updated_since), of a row that no longer counts (its cohort, or every session it was "
            "marked in, was cancelled); its hours are 0 and void_reason says why.",
        },
    )
    void_reason = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "Why a voided row no longer counts; else null."}
    )
    change = fields.Integer(
        dump_only=True,
        metadata={
            "description": "The row's change marker: larger for a later change of this row; sync with changed_after."
        },
    )


TrainingHoursPage = page_schema(TrainingHoursRowSchema, "TrainingHoursPage")


class SelfReportedHoursSchema(Schema):
    id = fields.String(dump_only=True)
    jurisdiction = fields.String(dump_only=True, attribute="tenant")
    participant = Text(
        200,
        metadata={
            "description": "Whose training this is. Leave it out to report your own; only jurisdiction admins and "
            "state systems (integration) record it for a participant of their jurisdiction."
        },
    )
    name = Text(
        300,
        load_default=None,
        allow_none=True,
        metadata={
            "description": "The person's name; yours (from your token) when you report your own and leave it out."
        },
    )
    registry_id = Text(
        100,
        load_default=None,
        allow_none=True,
        metadata={"description": "The person's id in the state workforce registry."},
    )
    title = Text(300, required=True, metadata={"description": "The training taken."})
    provider = Text(300, required=True, metadata={"description": "Who gave it."})
    completed_on = fields.Date(
        required=True,
        validate=DATES,
        metadata={"description": "The day it was completed (YYYY-MM-DD); not in the future."},
    )
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=6000))
    hours = fields.Function(lambda entry: rules.hours(entry.minutes), dump_only=True)
    cohort_id = Text(
        36,
        load_default=None,
        allow_none=True,
        metadata={"description": "A cohort of your jurisdiction this training belongs with, if any."},
    )
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)

    @validates("completed_on")
    def _not_in_the_future(self, value, **_kwargs):
        if value > (datetime.now(UTC) + EARLIEST_ZONE).date():
            raise ValidationError("Must not be in the future.")


SelfReportedHoursPage = page_schema(SelfReportedHoursSchema, "SelfReportedHoursPage")


class SelfReportedArgs(PageArgs):
    jurisdiction = Text(
        40,
        load_default=None,
        metadata={"description": "A jurisdiction code; national admins use it to list one jurisdiction."},
    )
