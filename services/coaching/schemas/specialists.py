"""HTTP schemas of specialists by name."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.coaching.schemas.plans import Sub
from shared.http.fields import Text
from shared.http.pagination import CursorArgs, page_schema

MAX_SUBS = 100  # specialists asked for at once: a page of plans' worth


class SpecialistSchema(Schema):
    sub = fields.String(dump_only=True, metadata={"description": "The specialist's subject at the identity provider."})
    tenant = fields.String(dump_only=True)
    name = fields.String(dump_only=True, metadata={"description": "As they last signed in, or as an admin entered it."})
    updated_at = fields.AwareDateTime(dump_only=True)
    withdrawn_at = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "When an admin withdrew them: no longer offered as a plan's specialist; null while offered."
        },
    )


class SpecialistNameSchema(Schema):
    name = Text(200, required=True, metadata={"description": "The name the specialist is known by."})


class SpecialistQueryArgs(CursorArgs):
    """A directory, not a list systems keep a copy of: ordered by name, without update-time filters."""

    sub = fields.List(
        Sub(),
        load_default=None,
        validate=validate.Length(min=1, max=MAX_SUBS),
        metadata={
            "description": f"Only these specialists (a plan's `specialist`; repeat it, up to {MAX_SUBS}), withdrawn "
            "or not. Anyone who reads plans may name specialists so; the whole list is for coaching's staff."
        },
    )
    q = Text(200, load_default=None, metadata={"description": "Only specialists whose name contains this (any case)."})
    jurisdiction = Text(
        40,
        load_default=None,
        metadata={"description": "A jurisdiction code: national admins list one jurisdiction's specialists."},
    )
    include_withdrawn = fields.Boolean(
        load_default=False,
        metadata={"description": "Also list the specialists withdrawn (not offered as a plan's specialist)."},
    )


SpecialistPage = page_schema(SpecialistSchema, "SpecialistPage")
