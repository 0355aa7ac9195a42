"""HTTP schemas of registrations, waitlists, capacity and roster imports."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from services.scheduling.domain.registrations import MAX_ROSTER_ROWS, ROSTER_COLUMNS, STATUSES
from services.scheduling.schemas.cohorts import COHORT_CAPACITY_MAX
from shared.events import LANGUAGES
from shared.http.fields import Email, Text
from shared.http.pagination import PageArgs, page_schema


class RegistrationSchema(Schema):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    cohort_id = fields.String(dump_only=True)
    participant = Text(
        200,
        metadata={
            "description": "Whom to register (their sub, or the roster key). Leave it out to register yourself; "
            "only the cohort's coordinators and jurisdiction admins register someone else."
        },
    )
    name = Text(300, required=True)
    email = Email(required=True, validate=validate.Length(max=320))
    registry_id = Text(
        100,
        load_default=None,
        allow_none=True,
        metadata={"description": "The person's id in the state workforce registry."},
    )
    language = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(LANGUAGES),
        metadata={
            "description": "The language the person reads the platform's e-mails in (`en` or `es`), when they say: "
            "their confirmation and every e-mail after it come in it. Null: not said (their e-mails stay as they "
            "were, English for someone new)."
        },
    )
    status = fields.String(dump_only=True, metadata={"enum": list(STATUSES)})
    waitlist_position = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Order on the waitlist (lowest is promoted first); null unless waitlisted."},
    )
    source = fields.String(dump_only=True, metadata={"enum": ["self", "coordinator", "roster"]})
    cancelled_reason = fields.String(dump_only=True, allow_none=True)
    completed_at = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "When the person met the cohort's completion rule (their certificate is ready from then "
            "on); null until then. Completing changes the registration: it comes again in `changed_after` lists."
        },
    )
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


RegistrationPage = page_schema(RegistrationSchema, "RegistrationPage")


class RegistrationQueryArgs(PageArgs):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(STATUSES),
        metadata={"description": "Only registrations in this status; `waitlisted` lists the waitlist in its order."},
    )


class ReasonSchema(Schema):
    reason = Text(2000, multiline=True, blank=True, load_default=None, allow_none=True)


class AuditSchema(Schema):
    id = fields.String(dump_only=True)
    registration_id = fields.String(dump_only=True)
    action = fields.String(dump_only=True)
    by = fields.String(dump_only=True)
    at = fields.AwareDateTime(dump_only=True)
    detail = fields.Dict(dump_only=True)


AuditPage = page_schema(AuditSchema, "RegistrationAuditPage")


class CapacitySchema(Schema):
    cohort_id = fields.String(dump_only=True)
    capacity = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=COHORT_CAPACITY_MAX),
        metadata={"description": "A whole number of seats, as a cohort's capacity."},
    )
    confirmed = fields.Integer(dump_only=True)
    waitlisted = fields.Integer(dump_only=True)
    pending_approval = fields.Integer(dump_only=True)
    seats_free = fields.Integer(dump_only=True)
    promoted = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": "Registrations promoted from the waitlist by this change, in order."},
    )


class RosterFileSchema(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": f"A CSV file (text/csv, UTF-8) whose first line names the columns "
            f"{', '.join(ROSTER_COLUMNS)}; other columns are ignored. At most {MAX_ROSTER_ROWS} rows, "
            f"and at most SCHEDULING_MAX_ROSTER_BYTES bytes (2 MiB unless the operators say otherwise)."
        },
    )


class RosterFormSchema(Schema):
    """The roster's multipart form takes no other fields."""


class RosterUploadSchema(RosterFileSchema):
    """The whole multipart body of a roster upload, for the OpenAPI document."""


class RejectedRowSchema(Schema):
    line = fields.Integer(dump_only=True, metadata={"description": "Line in the file; the header is line 1."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        dump_only=True,
        metadata={"description": "Messages by column (`row` for the row as a whole)."},
    )


class RosterReportSchema(Schema):
    import_id = fields.String(dump_only=True)
    sha256 = fields.String(dump_only=True)
    rows = fields.Integer(
        dump_only=True,
        metadata={"description": "Data rows read: registered + waitlisted + already_registered + rejected."},
    )
    registered = fields.Integer(dump_only=True, metadata={"description": "Rows that got a seat."})
    waitlisted = fields.Integer(dump_only=True, metadata={"description": "Rows put on the waitlist."})
    already_registered = fields.Integer(
        dump_only=True,
        metadata={"description": "Rows of people already registered for the cohort (left as they were)."},
    )
    rejected = fields.List(fields.Nested(RejectedRowSchema), dump_only=True)
    ignored_columns = fields.List(fields.String(), dump_only=True)
