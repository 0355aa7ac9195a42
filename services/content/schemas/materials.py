"""The materials' schemas: materials, their versions and uploads."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from services.content.schemas import Id
from shared.events import MATERIAL_KINDS
from shared.http.fields import Text, Url
from shared.http.pagination import PageArgs, page_schema


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


MaterialPage = page_schema(MaterialSchema, "MaterialPage")
