"""The catalogue of event types: each type, its version and the marshmallow schema of its data.

Types are ``<source>.<entity>.<past verb>`` and stable forever; a breaking change to a payload is a
new version, never an edit of the old schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import RAISE, Schema, fields, validate

MATERIAL_KINDS = (
    "slide_deck",
    "facilitator_guide",
    "participant_worksheet",
    "resource",
    "learning_activity",
    "video_link",
)
COMPONENT_DECISIONS = ("kept", "adapted", "dropped")
REVIEW_DECISIONS = ("approved", "changes_requested")


class EventData(Schema):
    class Meta:
        unknown = RAISE


class MaterialPublished(EventData):
    material_id = fields.String(required=True)
    module_id = fields.String(required=True)
    series_id = fields.String(required=True)
    module_position = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(MATERIAL_KINDS))
    title = fields.String(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    media_type = fields.String(allow_none=True, load_default=None)
    size = fields.Integer(allow_none=True, load_default=None)
    sha256 = fields.String(allow_none=True, load_default=None)
    url = fields.String(allow_none=True, load_default=None)
    national = fields.Boolean(required=True)
    published_by = fields.String(required=True)


class AdaptationSubmitted(EventData):
    adaptation_id = fields.String(required=True)
    module_id = fields.String(required=True)
    title = fields.String(required=True)
    facilitator = fields.String(required=True)
    revision = fields.Integer(required=True)
    components = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class AdaptationReviewed(EventData):
    adaptation_id = fields.String(required=True)
    module_id = fields.String(required=True)
    facilitator = fields.String(required=True)
    reviewer = fields.String(required=True)
    revision = fields.Integer(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(REVIEW_DECISIONS))
    comments = fields.String(load_default="")


@dataclass(frozen=True)
class EventSpec:
    schema: type[Schema]
    version: int = 1


CATALOGUE: dict[str, EventSpec] = {
    "content.material.published": EventSpec(MaterialPublished),
    "content.adaptation.submitted": EventSpec(AdaptationSubmitted),
    "content.adaptation.reviewed": EventSpec(AdaptationReviewed),
}


def dataschema_for(type_: str) -> str:
    spec = CATALOGUE[type_]
    return f"urn:t4t:event:{type_}:v{spec.version}"
