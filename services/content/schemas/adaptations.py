"""The adaptations' schemas: adaptations, their reviews and the fidelity checklist."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.content.schemas import Id
from shared.events import COMPONENT_DECISIONS, REVIEW_DECISIONS
from shared.http.fields import Text
from shared.http.pagination import PageArgs, page_schema


class ComponentDecisionSchema(Schema):
    component = Text(200, required=True)
    decision = fields.String(required=True, validate=validate.OneOf(COMPONENT_DECISIONS))
    rationale = Text(5000, multiline=True, blank=True, load_default="")

    @validates_schema
    def rationale_for_changes(self, data, **kwargs):
        if data.get("decision") in ("adapted", "dropped") and not data.get("rationale", "").strip():
            raise ValidationError("Say why a core component is adapted or dropped.", "rationale")


class ReviewChecklistItemSchema(Schema):
    item = Text(1000, required=True)
    met = fields.Boolean(required=True)
    comment = Text(2000, multiline=True, blank=True, load_default="")


class AdaptationReviewSchema(Schema):
    id = fields.String(dump_only=True)
    adaptation_id = fields.String(dump_only=True)
    revision = fields.Integer(dump_only=True)
    reviewer = fields.String(dump_only=True)
    reviewer_name = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "The reviewer's name as they signed in to review."}
    )
    decision = fields.String(required=True, validate=validate.OneOf(REVIEW_DECISIONS))
    checklist = fields.List(fields.Nested(ReviewChecklistItemSchema), required=True)
    comments = Text(10_000, multiline=True, blank=True, load_default="")
    created_at = fields.AwareDateTime(dump_only=True)


class AdaptationSchema(Schema):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    module_id = Id(required=True)
    module_position = fields.Integer(
        dump_only=True, attribute="module.position", metadata={"description": "The module's session number."}
    )
    module_title = fields.String(dump_only=True, attribute="module.title")
    facilitator = fields.String(dump_only=True)
    facilitator_name = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The facilitator's name as they signed in when they last wrote or submitted it."},
    )
    title = Text(300, required=True)
    audience = Text(5000, multiline=True, blank=True, load_default="")
    components = fields.List(fields.Nested(ComponentDecisionSchema), load_default=list)
    status = fields.String(dump_only=True)
    revision = fields.Integer(dump_only=True)
    submitted_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    reviews = fields.List(fields.Nested(AdaptationReviewSchema), dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class AdaptationUpdateSchema(Schema):
    title = Text(300)
    audience = Text(5000, multiline=True, blank=True)
    components = fields.List(fields.Nested(ComponentDecisionSchema))


class AdaptationQueryArgs(PageArgs):
    status = fields.String(
        load_default=None, validate=validate.OneOf(["draft", "submitted", "approved", "changes_requested"])
    )
    module_id = Id(load_default=None)


class FidelityChecklistSchema(Schema):
    items = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": "Each review answers every item exactly once, by its text."},
    )


AdaptationReviewPage = page_schema(AdaptationReviewSchema, "AdaptationReviewPage")


AdaptationPage = page_schema(AdaptationSchema, "AdaptationPage")
