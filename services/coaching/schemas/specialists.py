"""HTTP schemas of specialists by name."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.coaching.schemas.plans import Sub

MAX_SUBS = 100  # specialists asked for at once: a page of plans' worth


class SpecialistSchema(Schema):
    sub = fields.String(dump_only=True, metadata={"description": "The specialist's subject at the identity provider."})
    tenant = fields.String(dump_only=True)
    name = fields.String(dump_only=True, metadata={"description": "As they last signed in."})
    updated_at = fields.AwareDateTime(dump_only=True)


class SpecialistQueryArgs(Schema):
    sub = fields.List(
        Sub(),
        required=True,
        validate=validate.Length(min=1, max=MAX_SUBS),
        metadata={"description": f"A specialist's subject (a plan's `specialist`); repeat it, up to {MAX_SUBS}."},
    )


class SpecialistListSchema(Schema):
    items = fields.List(
        fields.Nested(SpecialistSchema),
        required=True,
        metadata={"description": "Those coaching knows by name, by name; a subject it does not know is left out."},
    )
