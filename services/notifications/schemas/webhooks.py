"""Webhook subscriptions of state systems, and their redelivery."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.http.fields import Email, Text, Url
from shared.http.pagination import page_schema
from shared.messaging.topology import SUBSCRIPTIONS

# The event types a subscription may ask for: every one notifications receives for its people
# (docs/notifications.md), its own notices aside: sessions, registrations, completions, requests'
# decisions, adaptations, and coaching's plans, support activities and commitments.
WEBHOOK_EVENT_TYPES = next(
    s.event_types for s in SUBSCRIPTIONS if (s.consumer, s.handler) == ("notifications", "notify")
)


class WebhookSubscriptionSchema(Schema):
    id = fields.String(dump_only=True)
    tenant = fields.String(dump_only=True)
    url = Url(
        required=True,
        schemes={"https", "http"},
        require_tld=False,
        validate=validate.Length(max=2000),
        metadata={"description": "An https:// address on the internet; private and local addresses are refused."},
    )
    event_types = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_EVENT_TYPES)),
        required=True,
        validate=validate.Length(min=1, max=len(WEBHOOK_EVENT_TYPES)),
    )
    description = Text(500, blank=True, load_default="")
    contact_email = Email(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=320),
        metadata={
            "description": "Told by e-mail, with the subscriber at their contact point, if the endpoint fails for "
            "days and is disabled. Required when the platform has no e-mail address for the subscriber in "
            "this jurisdiction (a state system's key, an admin without a contact point)."
        },
    )
    status = fields.String(
        dump_only=True,
        metadata={
            "description": "`active`; `disabled` (it failed for days: enable it to receive events again); or "
            "`deleted` (no event types; kept so that a list synced with changed_after sees it go)"
        },
    )
    failing_since = fields.AwareDateTime(dump_only=True, allow_none=True)
    disabled_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class NewWebhookSubscriptionSchema(WebhookSubscriptionSchema):
    secret = fields.String(
        dump_only=True,
        metadata={"description": "The signing secret (`whsec_…`); shown once, in this response only."},
    )


class RedeliverySchema(Schema):
    since = fields.AwareDateTime(required=True, metadata={"description": "Send again every message created since."})


class RedeliveryResult(Schema):
    queued = fields.Integer(required=True)


WebhookSubscriptionPage = page_schema(WebhookSubscriptionSchema, "WebhookSubscriptionPage")
