"""Contact points: how a person is reached."""

from __future__ import annotations

from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, fields, validate, validates

from services.notifications.domain.kinds import LANGUAGES
from shared.http.fields import Email, Text
from shared.http.pagination import page_schema

PERSON_PATTERN = r"^[A-Za-z0-9._:@+\-]{1,200}$"
_ZONES = frozenset(available_timezones())


class ContactPointSchema(Schema):
    id = fields.String(dump_only=True)
    person = fields.String(dump_only=True, metadata={"description": "The person's `sub`, or their roster key."})
    tenant = fields.String(dump_only=True)
    name = Text(
        300,
        allow_none=True,
        metadata={
            "description": "The person's name, as their record has it: each e-mail greets them with it, and "
            "admins see it beside an address its mail server refuses. Registrations and community memberships "
            "fill it in when it is unknown or changed. Left out of a `PUT`, the name held is kept (a system "
            "that does not keep names forgets none); `null` forgets it."
        },
    )
    email = Email(required=True, validate=validate.Length(max=320))
    contact_given_at = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "When the name and e-mail held were given: by a registration (registering, a roster), "
            "a community, or a `PUT` here (its time). The latest given is kept: a later event about an older "
            "registration that carries another address leaves them as they are. Null when not known."
        },
    )
    time_zone = Text(
        64,
        allow_none=True,
        load_default=None,
        metadata={"description": "IANA zone, such as America/Los_Angeles; by default the session's."},
    )
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    supervisor_email = Email(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=320),
        metadata={"description": "Copied where the jurisdiction asks for copies of a kind of notification."},
    )
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)

    @validates("time_zone")
    def known_zone(self, value, **kwargs):
        if value is not None and value not in _ZONES:
            raise ValidationError("Not an IANA time zone (such as America/Los_Angeles).")


ContactPointPage = page_schema(ContactPointSchema, "ContactPointPage")
