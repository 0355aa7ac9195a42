"""Preferences: a jurisdiction's defaults per kind of notification, and each person's overrides."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.notifications.domain.kinds import CHANNELS, DIGESTS
from shared.http.pagination import page_schema


class JurisdictionPreferenceSchema(Schema):
    kind = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    email = fields.Boolean(required=True, metadata={"description": "Whether this kind goes out by e-mail."})
    copy_supervisor = fields.Boolean(
        load_default=False, metadata={"description": "Copy each person's supervisor (their contact point names one)."}
    )
    updated_at = fields.AwareDateTime(dump_only=True)


class PersonPreferenceSchema(Schema):
    kind = fields.String(dump_only=True)
    person = fields.String(dump_only=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    enabled = fields.Boolean(required=True)
    digest = fields.String(
        load_default="none",
        validate=validate.OneOf(DIGESTS),
        metadata={
            "description": "`hourly` or `daily`: gather this kind into one message per window (kinds without "
            "a calendar invite only; a critical notice still goes at once)."
        },
    )
    updated_at = fields.AwareDateTime(dump_only=True)


class KindSchema(Schema):
    kind = fields.String(dump_only=True)
    audience = fields.String(dump_only=True)
    event_types = fields.List(fields.String(), dump_only=True)
    critical = fields.String(dump_only=True, allow_none=True)
    digestible = fields.Boolean(
        dump_only=True,
        metadata={"description": "Whether a person may take this kind as an hourly or daily digest."},
    )


class KindList(Schema):
    items = fields.List(fields.Nested(KindSchema), required=True)


JurisdictionPreferencePage = page_schema(JurisdictionPreferenceSchema, "JurisdictionPreferencePage")
PersonPreferencePage = page_schema(PersonPreferenceSchema, "PersonPreferencePage")
