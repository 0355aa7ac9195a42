"""HTTP schemas of the training-hours export for state registries."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.http.pagination import PageArgs, page_schema

VERIFICATIONS = ("verified", "self_reported")


# Far enough for any registry; keeps the local-midnight arithmetic of every time zone within datetime's range.
DATES = validate.Range(min=date(1900, 1, 1), max=date(9998, 12, 31))


class TrainingHoursArgs(PageArgs):
    from_ = fields.Date(data_key="from", load_default=None, validate=DATES, metadata={
        "description": "Only sessions on or after this date (YYYY-MM-DD, in each cohort's time zone)."})
    to = fields.Date(load_default=None, validate=DATES, metadata={
        "description": "Only sessions on or before this date (YYYY-MM-DD, in each cohort's time zone)."})
    jurisdiction = fields.String(load_default=None, validate=validate.Length(min=1, max=40), metadata={
        "description": "A jurisdiction code; national admins use it to export one jurisdiction."})
    format = fields.String(load_default=None, validate=validate.OneOf(("json", "csv")), metadata={
        "description": "csv for text/csv (same as Accept: text/csv); json otherwise."})

    @validates_schema
    def _range(self, data, **_kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("Must be on or after from.", field_name="to")


class TrainingHoursRowSchema(Schema):
    registration_id = fields.String(dump_only=True)
    participant = fields.String(dump_only=True, metadata={"description": "The person's id (token sub or roster key)."})
    name = fields.String(dump_only=True)
    registry_id = fields.String(dump_only=True, allow_none=True,
                                metadata={"description": "The person's id in the state registry, when known."})
    jurisdiction = fields.String(dump_only=True)
    cohort_id = fields.String(dump_only=True)
    hours = fields.Float(dump_only=True, metadata={"description": "Hours credited from minutes attended."})
    minutes = fields.Integer(dump_only=True)
    sessions_attended = fields.Integer(dump_only=True, metadata={"description": "Present or partial."})
    completed = fields.Boolean(dump_only=True)
    completed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    verification = fields.String(dump_only=True, validate=validate.OneOf(VERIFICATIONS), metadata={
        "description": "verified: credited from attendance taken by the session's facilitators or managers "
                       "(every row this service produces). self_reported: hours a person reports without "
                       "attendance records; reserved for registries that merge both, never produced here."})
    updated_at = fields.AwareDateTime(dump_only=True, metadata={
        "description": "Latest change to the row's attendance, completion or registration; use with updated_since."})


TrainingHoursPage = page_schema(TrainingHoursRowSchema, "TrainingHoursPage")
