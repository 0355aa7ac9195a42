"""HTTP schemas of the facilitators' directory."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.scheduling.schemas.agencies import Input, Subject
from shared.http.fields import Text
from shared.http.pagination import CursorArgs, page_schema

MAX_SUBS = 100  # subjects asked for by name at once: a page's worth of facilitators


class FacilitatorSchema(Schema):
    sub = fields.String(dump_only=True, metadata={"description": "The facilitator's subject at the identity provider."})
    tenant = fields.String(dump_only=True)
    name = fields.String(dump_only=True, metadata={"description": "As they sign in, or as an admin entered it."})
    updated_at = fields.AwareDateTime(dump_only=True)
    withdrawn_at = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "When an admin withdrew them: forms no longer offer them; null while offered."},
    )


class FacilitatorNameSchema(Input):
    name = Text(200, required=True, metadata={"description": "The name the facilitator is known by."})


class FacilitatorQueryArgs(CursorArgs):
    """A directory, not a list systems keep a copy of: ordered by name, without update-time filters."""

    jurisdiction = Text(
        40,
        load_default=None,
        metadata={"description": "A jurisdiction code: national admins list one jurisdiction's facilitators."},
    )
    q = Text(200, load_default=None, metadata={"description": "Only facilitators whose name contains this (any case)."})
    include_withdrawn = fields.Boolean(
        load_default=False, metadata={"description": "Also list the facilitators withdrawn (forms leave them out)."}
    )
    sub = fields.List(
        Subject(),
        load_default=None,
        validate=validate.Length(min=1, max=MAX_SUBS),
        metadata={"description": f"Only these facilitators (subjects; repeat the parameter, up to {MAX_SUBS})."},
    )


FacilitatorPage = page_schema(FacilitatorSchema, "FacilitatorPage")
