"""HTTP schemas of support activities, their history and the audit of their notes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.coaching.domain import activities as rules
from shared.http.fields import Text
from shared.http.pagination import PageArgs, page_schema

Sub = lambda **kw: Text(200, **kw)  # noqa: E731


class ActivitySchema(Schema):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    trainer = Sub(required=True, metadata={"description": "the trainer supported (their sub)"})
    plan_id = Text(36, allow_none=True, load_default=None)
    author = fields.String(dump_only=True)
    author_name = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "the author's name as their sign-in gave it when they logged it; null if none"},
    )
    status = fields.String(dump_only=True, metadata={"description": "draft (office hours to complete) or logged"})
    kind = fields.String(required=True, validate=validate.OneOf(rules.KINDS))
    occurred_on = fields.Date(required=True)
    duration_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=24 * 60))
    mode = fields.String(required=True, validate=validate.OneOf(rules.MODES))
    people_present = fields.List(Text(200), load_default=list, validate=validate.Length(max=100))
    practices = fields.List(
        fields.String(validate=validate.OneOf(rules.PRACTICES)), load_default=list, validate=validate.Length(max=6)
    )
    notes = Text(
        20000,
        multiline=True,
        blank=True,
        load_default="",
        allow_none=True,
        metadata={
            "description": "confidential: shown only to the author, the trainer's specialist and the "
            "jurisdiction admin (null for anyone else); every write and read is audited"
        },
    )
    strengths = Text(5000, multiline=True, blank=True, load_default="")
    next_steps = Text(5000, multiline=True, blank=True, load_default="")
    follow_up_on = fields.Date(allow_none=True, load_default=None)
    booking_id = fields.String(dump_only=True, allow_none=True)
    revision = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
    change = fields.Integer(dump_only=True)


ActivityPage = page_schema(ActivitySchema, "ActivityPage")


class ActivityQueryArgs(PageArgs):
    trainer = Sub()
    status = fields.String(validate=validate.OneOf((rules.DRAFT, rules.LOGGED)))


class ActivityUpdateSchema(Schema):
    kind = fields.String(validate=validate.OneOf(rules.KINDS))
    occurred_on = fields.Date()
    duration_minutes = fields.Integer(strict=True, validate=validate.Range(min=0, max=24 * 60))
    mode = fields.String(validate=validate.OneOf(rules.MODES))
    people_present = fields.List(Text(200), validate=validate.Length(max=100))
    practices = fields.List(fields.String(validate=validate.OneOf(rules.PRACTICES)), validate=validate.Length(max=6))
    notes = Text(20000, multiline=True, blank=True)
    strengths = Text(5000, multiline=True, blank=True)
    next_steps = Text(5000, multiline=True, blank=True)
    follow_up_on = fields.Date(allow_none=True)
    status = fields.String(
        validate=validate.OneOf((rules.LOGGED,)), metadata={"description": "logged: complete a draft"}
    )
    revision = fields.Integer(
        strict=True, metadata={"description": "the revision you read: a 409 if the activity changed since"}
    )


class RevisionSchema(Schema):
    revision = fields.Integer()
    content = fields.Dict(metadata={"description": "the activity as it was; notes null unless you may read them"})
    written_by = fields.String()
    written_at = fields.AwareDateTime()


RevisionPage = page_schema(RevisionSchema, "RevisionPage")


class AuditSchema(Schema):
    id = fields.String()
    activity_id = fields.String()
    actor = fields.String()
    action = fields.String(metadata={"description": "write or read"})
    what = fields.String()
    at = fields.AwareDateTime()


AuditPage = page_schema(AuditSchema, "AuditPage")
