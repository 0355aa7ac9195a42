"""The curriculum's schemas: series, modules (sessions) and practices."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.content.schemas import FORMATS
from shared.http.fields import Text
from shared.http.pagination import page_schema


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


SeriesPage = page_schema(SeriesSchema, "SeriesPage")
ModulePage = page_schema(ModuleSchema, "ModulePage")
PracticePage = page_schema(PracticeSchema, "PracticePage")
