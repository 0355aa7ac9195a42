"""HTTP schemas of fidelity observations and a trainer's trend."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.coaching.domain import fidelity as rules
from services.coaching.domain.activities import PRACTICES
from shared.http.fields import Text
from shared.http.pagination import PageArgs, page_schema


class ChecklistItemSchema(Schema):
    component = Text(200, required=True, metadata={"description": "a core component of the session"})
    decision = fields.String(required=True, validate=validate.OneOf(rules.DECISIONS))


class ObservationSchema(Schema):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    trainer = Text(200, required=True)
    observer = fields.String(dump_only=True)
    cohort_id = Text(36, allow_none=True, load_default=None)
    session_position = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100))
    practice = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(PRACTICES))
    observed_on = fields.Date(required=True)
    checklist = fields.List(fields.Nested(ChecklistItemSchema), required=True, validate=validate.Length(min=1, max=50))
    score = fields.Float(dump_only=True, metadata={"description": "kept 1, adapted 0.5, dropped 0; averaged (0 to 1)"})
    comments = Text(5000, multiline=True, blank=True, load_default="")
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
    change = fields.Integer(dump_only=True)


ObservationPage = page_schema(ObservationSchema, "ObservationPage")


class ObservationQueryArgs(PageArgs):
    trainer = Text(200)


class TrendArgs(Schema):
    trainer = Text(200, required=True)


class ScoreSchema(Schema):
    observed_on = fields.Date()
    score = fields.Float()


class TrendSchema(Schema):
    trainer = fields.String()
    observations = fields.List(fields.Nested(ScoreSchema))
    average = fields.Float(allow_none=True)
    trend = fields.String(metadata={"description": "improving, declining or steady"})
