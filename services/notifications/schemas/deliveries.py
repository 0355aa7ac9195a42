"""The delivery log: every message, its state, attempts and latency."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.notifications.domain.kinds import TEMPLATES
from services.notifications.domain.webhooks import TEST_EVENT
from services.notifications.schemas.webhooks import WEBHOOK_EVENT_TYPES
from shared.http.pagination import PageArgs, page_schema

STATUSES = ("held", "digested", "pending", "sending", "sent", "failed")


class DeliverySchema(Schema):
    id = fields.String(dump_only=True)
    event_id = fields.String(dump_only=True)
    event_type = fields.String(dump_only=True)
    recipient = fields.String(
        dump_only=True, metadata={"description": "An e-mail address, or a webhook subscription's id."}
    )
    person = fields.String(dump_only=True, allow_none=True)
    channel = fields.String(dump_only=True)
    template = fields.String(dump_only=True)
    message_id = fields.String(dump_only=True)
    language = fields.String(dump_only=True)
    subject = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    attempts = fields.Integer(dump_only=True)
    ambiguous_sends = fields.Integer(
        dump_only=True, metadata={"description": "Times it was sent again because an earlier send was never recorded."}
    )
    last_error = fields.String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    next_attempt_at = fields.AwareDateTime(dump_only=True)
    sent_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    latency_ms = fields.Integer(dump_only=True, allow_none=True)
    content_deleted_at = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "When its bodies, invite or payload were deleted (MESSAGE_CONTENT_RETENTION_DAYS after "
            "it was written, once settled): from then on it cannot be sent again."
        },
    )
    response_status = fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "A webhook receiver's HTTP status, last attempt."}
    )


class DeliveryQueryArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    channel = fields.String(validate=validate.OneOf(("email", "webhook")))
    template = fields.String(
        validate=validate.OneOf((*TEMPLATES, "webhook_disabled", *WEBHOOK_EVENT_TYPES, TEST_EVENT)),
        metadata={"description": "An e-mail's template, or a webhook message's event type."},
    )
    person = fields.String(validate=validate.Length(max=200))
    content_kept = fields.Boolean(
        metadata={
            "description": "true: the messages whose content is kept (a failed one can still be sent again); "
            "false: those whose content was deleted (MESSAGE_CONTENT_RETENTION_DAYS)."
        }
    )
    recipient = fields.String(
        validate=validate.Length(min=1, max=320),
        metadata={"description": "The address a message went to (any case), or a webhook subscription's id."},
    )


DeliveryPage = page_schema(DeliverySchema, "DeliveryPage")
