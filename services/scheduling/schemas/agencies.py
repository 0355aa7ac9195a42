"""HTTP schemas of jurisdictions, host agencies, venues and rooms, and the field helpers other schemas share."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from services.scheduling.domain.timezones import zone
from shared.errors import InvalidInput
from shared.http.fields import Email, Text
from shared.http.pagination import page_schema
from shared.jurisdictions import CODE_PATTERN


class Input(Schema):
    """Base of request bodies and query strings (unknown fields are refused, as marshmallow does by default)."""


def _iana(name: str) -> None:
    try:
        zone(name)
    except InvalidInput:
        raise ValidationError(f"Unknown time zone {name!r}; use an IANA name such as America/Chicago.") from None


def TimeZone(**kw) -> fields.String:
    """An IANA time zone name (Pacific/Guam, America/New_York…)."""
    metadata = {"description": "IANA time zone", "example": "Pacific/Guam", **kw.pop("metadata", {})}
    return fields.String(validate=_iana, metadata=metadata, **kw)


def Reason(**kw) -> Text:
    """A required, non-blank explanation (a decline, a reschedule, a cancellation)."""
    return Text(5000, multiline=True, required=True, **kw)


Subject = lambda **kw: Text(200, **kw)  # noqa: E731 - a person's sub
Id = lambda **kw: Text(36, **kw)  # noqa: E731 - a record's id (a UUID; an unknown one is a 404 or a 422)


# --- jurisdictions ------------------------------------------------------------------------------

JURISDICTION_KINDS = ("state", "territory", "tribe")


class JurisdictionSchema(Input):
    code = Text(
        40,
        required=True,
        validate=validate.Regexp(
            CODE_PATTERN, error="2 to 40 capital letters, digits, '-' or '_', starting with a letter."
        ),
    )
    name = Text(200, required=True)
    kind = fields.String(
        validate=validate.OneOf(JURISDICTION_KINDS), metadata={"description": "state (DC included), territory or tribe"}
    )
    default_time_zone = TimeZone(required=True)


class NewJurisdictionSchema(JurisdictionSchema):
    """A jurisdiction added over the API: only Tribes are (states and territories are seeded)."""

    kind = fields.String(
        load_default="tribe",
        validate=validate.OneOf(["tribe"]),
        metadata={"description": "Only Tribes are added over the API (states and territories are seeded)."},
    )


# --- host agencies, venues, rooms ---------------------------------------------------------------


class RoomSchema(Input):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    venue_id = fields.String(dump_only=True)
    name = Text(200, required=True)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    accessibility_notes = Text(5000, multiline=True, blank=True, load_default="")
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class VenueSchema(Input):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    agency_id = fields.String(dump_only=True)
    name = Text(300, required=True)
    address = Text(2000, multiline=True, required=True)
    time_zone = TimeZone(required=True)
    rooms = fields.List(fields.Nested(RoomSchema), dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class AgencySchema(Input):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    name = Text(300, required=True)
    email = Email(load_default=None, allow_none=True, validate=validate.Length(max=320))
    phone = Text(40, blank=True, load_default=None, allow_none=True)
    coordinators = fields.List(
        Subject(),
        load_default=list,
        validate=validate.Length(max=100),
        metadata={"description": "subs of the agency coordinators who manage this agency's cohorts, venues and rooms"},
    )
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class AgencyUpdateSchema(Input):
    name = Text(300)
    email = Email(allow_none=True, validate=validate.Length(max=320))
    phone = Text(40, blank=True, allow_none=True)
    coordinators = fields.List(Subject(), validate=validate.Length(max=100))


JurisdictionPage = page_schema(JurisdictionSchema, "JurisdictionPage")
AgencyPage = page_schema(AgencySchema, "AgencyPage")
VenuePage = page_schema(VenueSchema, "VenuePage")
RoomPage = page_schema(RoomSchema, "RoomPage")
