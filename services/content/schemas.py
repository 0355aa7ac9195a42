"""Content's HTTP schemas. Server-owned fields are dump_only; unknown fields are rejected."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.events import COMPONENT_DECISIONS, MATERIAL_KINDS, REVIEW_DECISIONS
from shared.http.fields import Text, Url
from shared.http.pagination import PageArgs, page_schema

FORMATS = ("in_person", "virtual", "hybrid")
Id = lambda **kw: Text(36, **kw)  # noqa: E731 - a record's id (a UUID; an unknown one is a 404 or a 422)


# --- curriculum ---------------------------------------------------------------------------------


class PracticeSchema(Schema):
    code = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    definition = fields.String(dump_only=True)
    position = fields.Integer(dump_only=True)


class ModuleSummarySchema(Schema):
    id = fields.String(dump_only=True)
    position = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)


class SeriesSchema(Schema):
    id = fields.String(dump_only=True)
    tenant = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "null for the national curriculum"}
    )
    slug = Text(120, required=True, validate=validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$"))
    title = Text(300, required=True)
    description = Text(5000, multiline=True, blank=True, load_default="")
    objectives = fields.List(Text(1000), load_default=list)
    formats = fields.List(fields.String(validate=validate.OneOf(FORMATS)), load_default=lambda: list(FORMATS))
    modules = fields.List(fields.Nested(ModuleSummarySchema), dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class SeriesUpdateSchema(Schema):
    title = Text(300)
    description = Text(5000, multiline=True, blank=True)
    objectives = fields.List(Text(1000))
    formats = fields.List(fields.String(validate=validate.OneOf(FORMATS)))


class ModuleSchema(Schema):
    id = fields.String(dump_only=True)
    series_id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True, allow_none=True)
    position = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100))
    title = Text(300, required=True)
    summary = Text(5000, multiline=True, blank=True, load_default="")
    objectives = fields.List(Text(1000), load_default=list)
    core_components = fields.List(Text(200), load_default=list)
    practice_codes = fields.List(Text(60), load_default=list, load_only=True)
    practices = fields.List(fields.Nested(PracticeSchema), dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class ModuleUpdateSchema(Schema):
    title = Text(300)
    summary = Text(5000, multiline=True, blank=True)
    objectives = fields.List(Text(1000))
    core_components = fields.List(Text(200))
    practice_codes = fields.List(Text(60))


# --- materials ----------------------------------------------------------------------------------


class MaterialVersionSchema(Schema):
    material_id = fields.String(dump_only=True)
    number = fields.Integer(dump_only=True)
    filename = fields.String(dump_only=True, allow_none=True)
    media_type = fields.String(dump_only=True, allow_none=True)
    size = fields.Integer(dump_only=True, allow_none=True)
    sha256 = fields.String(dump_only=True, allow_none=True)
    url = fields.String(dump_only=True, allow_none=True)
    note = fields.String(dump_only=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class MaterialSchema(Schema):
    id = fields.String(dump_only=True)
    module_id = Id(required=True)
    tenant = fields.String(dump_only=True, allow_none=True)
    kind = fields.String(required=True, validate=validate.OneOf(MATERIAL_KINDS))
    title = Text(300, required=True)
    description = Text(5000, multiline=True, blank=True, load_default="")
    status = fields.String(dump_only=True)
    latest_version = fields.Integer(dump_only=True)
    published_version = fields.Integer(dump_only=True, allow_none=True)
    published_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class MaterialUpdateSchema(Schema):
    title = Text(300)
    description = Text(5000, multiline=True, blank=True)


class MaterialQueryArgs(PageArgs):
    module_id = Id(load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf(MATERIAL_KINDS))
    status = fields.String(load_default=None, validate=validate.OneOf(["draft", "published"]))


class VideoLinkVersionSchema(Schema):
    url = Url(required=True, schemes={"https", "http"}, require_tld=True, validate=validate.Length(max=2000))
    note = Text(2000, multiline=True, blank=True, load_default="")


class UploadFileSchema(Schema):
    file = Upload(
        required=True, metadata={"description": "The file; its part's Content-Type must be the file's real type."}
    )


class UploadFormSchema(Schema):
    note = Text(2000, multiline=True, blank=True, load_default="")


class UploadSchema(UploadFileSchema, UploadFormSchema):
    """The whole multipart body of an upload, for the OpenAPI document."""


class PublishSchema(Schema):
    version = fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "Defaults to the latest version."},
    )


MaterialVersionPage = page_schema(MaterialVersionSchema, "MaterialVersionPage")


# --- adaptations --------------------------------------------------------------------------------


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
    decision = fields.String(required=True, validate=validate.OneOf(REVIEW_DECISIONS))
    checklist = fields.List(fields.Nested(ReviewChecklistItemSchema), required=True)
    comments = Text(10_000, multiline=True, blank=True, load_default="")
    created_at = fields.AwareDateTime(dump_only=True)


class AdaptationSchema(Schema):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    module_id = Id(required=True)
    facilitator = fields.String(dump_only=True)
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


SeriesPage = page_schema(SeriesSchema, "SeriesPage")
ModulePage = page_schema(ModuleSchema, "ModulePage")
PracticePage = page_schema(PracticeSchema, "PracticePage")
MaterialPage = page_schema(MaterialSchema, "MaterialPage")
AdaptationPage = page_schema(AdaptationSchema, "AdaptationPage")
