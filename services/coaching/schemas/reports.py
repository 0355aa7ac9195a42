"""HTTP schemas of reports, the reach cascade and consent."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.http.pagination import PageArgs, page_schema

FORMAT = fields.String(
    load_default=None,
    validate=validate.OneOf(("json", "csv")),
    metadata={"description": "csv for text/csv (same as Accept: text/csv); json otherwise."},
)


class FormatArgs(Schema):
    format = FORMAT


class KindFigures(Schema):
    count = fields.Integer()
    hours = fields.Float()


class FidelityFigures(Schema):
    observations = fields.Integer()
    average = fields.Float(allow_none=True)
    by_practice = fields.Dict(keys=fields.String(), values=fields.Float())


class SummarySchema(Schema):
    jurisdiction = fields.String()
    status = fields.String(metadata={"description": "included, or withheld (no consent: no figures)"})
    today = fields.Date()
    activities_by_kind = fields.Dict(keys=fields.String(), values=fields.Nested(KindFigures))
    hours_by_month = fields.Dict(keys=fields.String(), values=fields.Float())
    commitments_by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    fidelity = fields.Nested(FidelityFigures)


class NationalSummarySchema(Schema):
    today = fields.Date()
    items = fields.List(fields.Nested(SummarySchema))


class ActivityRowSchema(Schema):
    id = fields.String()
    trainer = fields.String()
    author = fields.String()
    kind = fields.String()
    occurred_on = fields.Date()
    duration_minutes = fields.Integer()
    mode = fields.String()
    practices = fields.List(fields.String())
    follow_up_on = fields.Date(allow_none=True)
    updated_at = fields.AwareDateTime()
    change = fields.Integer()


ActivityRowPage = page_schema(ActivityRowSchema, "ActivityRowPage")


class ActivityRowArgs(PageArgs):
    format = FORMAT


class ReachCohortSchema(Schema):
    cohort_id = fields.String()
    graduates = fields.Integer()
    trainings_delivered = fields.Integer()
    practitioners_reached = fields.Integer()


class ReachSchema(Schema):
    jurisdiction = fields.String()
    status = fields.String(metadata={"description": "included, or withheld (no consent: no figures)"})
    cohorts = fields.List(fields.Nested(ReachCohortSchema))
    graduates = fields.Integer()
    trainings_delivered = fields.Integer()
    practitioners_reached = fields.Integer()


class NationalReachSchema(Schema):
    items = fields.List(fields.Nested(ReachSchema))
    graduates = fields.Integer()
    trainings_delivered = fields.Integer()
    practitioners_reached = fields.Integer()


class ConsentChangeSchema(Schema):
    national_roll_ups = fields.Boolean(required=True)


class ConsentRecordSchema(Schema):
    granted = fields.Boolean()
    by = fields.String()
    at = fields.AwareDateTime()


class ConsentSchema(Schema):
    jurisdiction = fields.String()
    national_roll_ups = fields.Boolean()
    changed_by = fields.String(allow_none=True)
    changed_at = fields.AwareDateTime(allow_none=True)
    history = fields.List(fields.Nested(ConsentRecordSchema))
