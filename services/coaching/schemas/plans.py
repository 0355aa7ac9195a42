"""HTTP schemas of plans, commitments, the caseload, settings and the training-for-trainers series."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.coaching.domain import commitments as rules
from shared.http.fields import Text
from shared.http.pagination import PageArgs, page_schema

Sub = lambda **kw: Text(200, **kw)  # noqa: E731 - a person's sub, as the identity provider gives it


class AgreementSchema(Schema):
    party = fields.String(required=True, validate=validate.OneOf(rules.AGREEING_PARTIES))
    name = Text(200, required=True)


class CommitmentSchema(Schema):
    id = fields.String(dump_only=True)
    status = fields.String(
        dump_only=True,
        validate=validate.OneOf(rules.STATUSES),
        metadata={"description": "on_track, due_soon (30 days or less), overdue or fulfilled, as of today"},
    )
    due_on = fields.Date(dump_only=True)
    time_frame_months = fields.Integer(dump_only=True)
    agreed_by = fields.List(fields.Nested(AgreementSchema), dump_only=True)
    agreed_on = fields.Date(dump_only=True, allow_none=True)
    agreement_recorded_by = fields.String(dump_only=True, allow_none=True)
    delivery_scheduled_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    first_session_held_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    delivery_completed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    fulfilled_on = fields.Date(dump_only=True, allow_none=True)
    fulfilled_by = fields.String(dump_only=True, allow_none=True, metadata={"description": "cohort or evidence"})
    delivery_cohort_id = fields.String(dump_only=True, allow_none=True)
    evidence = fields.String(dump_only=True, allow_none=True)


class PlanSchema(Schema):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    trainer = fields.String(dump_only=True)
    trainer_name = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "the name they registered under; null if unknown"}
    )
    registry_id = fields.String(dump_only=True, allow_none=True)
    specialist = fields.String(dump_only=True, allow_none=True)
    specialist_name = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "the specialist's name as coaching knows it (`/specialists`); null while unknown. "
            "Entering or renaming the specialist is a change to the plan (`changed_after`)."
        },
    )
    series_id = fields.String(dump_only=True)
    cohort_id = fields.String(dump_only=True)
    registration_id = fields.String(dump_only=True)
    completed_at = fields.AwareDateTime(dump_only=True)
    certificate_code = fields.String(dump_only=True, allow_none=True)
    opened_by = fields.String(dump_only=True, metadata={"description": "event or backfill"})
    commitment = fields.Nested(CommitmentSchema, dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
    change = fields.Integer(dump_only=True)


PlanPage = page_schema(PlanSchema, "PlanPage")


class PlanQueryArgs(PageArgs):
    trainer = Sub()
    specialist = Sub()


class PlanUpdateSchema(Schema):
    specialist = Sub(required=True, metadata={"description": "the Infant/Toddler Specialist who supports the trainer"})


class TimeFrameSchema(Schema):
    months = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=60))
    agreed_by = fields.List(fields.Nested(AgreementSchema), required=True, validate=validate.Length(min=1, max=10))
    agreed_on = fields.Date(required=True)


class DeliverySchema(Schema):
    delivered_on = fields.Date(required=True)
    evidence = Text(5000, multiline=True, required=True, metadata={"description": "what shows the delivery happened"})


class CaseloadItemSchema(Schema):
    trainer = fields.String()
    trainer_name = fields.String(allow_none=True, metadata={"description": "null when scheduling gave no name"})
    plan_id = fields.String()
    status = fields.String(validate=validate.OneOf(rules.STATUSES))
    due_on = fields.Date()
    last_contact = fields.Date(allow_none=True)
    next_follow_up = fields.Date(allow_none=True)


class CaseloadSchema(Schema):
    specialist = fields.String(
        allow_none=True, metadata={"description": "whose caseload; null: the trainers without one"}
    )
    today = fields.Date()
    items = fields.List(fields.Nested(CaseloadItemSchema))


class CaseloadArgs(Schema):
    specialist = Sub(metadata={"description": "jurisdiction admins: whose caseload (specialists see their own)"})
    unassigned = fields.Boolean(
        load_default=False,
        metadata={"description": "jurisdiction admins: the trainers whose plan names no specialist yet, to assign"},
    )
    as_of = fields.Date(
        metadata={"description": "the caseload as it will stand on this day (planning ahead); today by default"}
    )

    @validates_schema
    def _one_whose(self, data, **_kwargs):
        if data.get("unassigned") and data.get("specialist"):
            raise ValidationError("Ask for one specialist's trainers or for those without one, not both.", "unassigned")


class SettingsSchema(Schema):
    tenant = fields.String(dump_only=True)
    default_specialist = Sub(allow_none=True)
    default_time_frame_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=60))
    national_consent = fields.Boolean(dump_only=True)
    consent_changed_by = fields.String(dump_only=True, allow_none=True)
    consent_changed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    updated_by = fields.String(dump_only=True, allow_none=True)


class TrainerSeriesSchema(Schema):
    series_id = fields.String(dump_only=True)
    added_by = fields.String(dump_only=True)
    added_at = fields.AwareDateTime(dump_only=True)


class TrainerSeriesListSchema(Schema):
    items = fields.List(fields.Nested(TrainerSeriesSchema))
