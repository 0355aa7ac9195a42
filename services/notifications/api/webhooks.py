"""Webhook subscriptions for state systems: every delivery signed as the Standard Webhooks specification says."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from services.notifications import repository as repo
from services.notifications.models import WebhookSubscription
from services.notifications.schemas.deliveries import DeliverySchema
from services.notifications.schemas.webhooks import (
    NewWebhookSubscriptionSchema,
    RedeliveryResult,
    RedeliverySchema,
    WebhookSubscriptionPage,
    WebhookSubscriptionSchema,
)
from services.notifications.use_cases import webhooks as use_cases
from shared.auth import INTEGRATION, JURISDICTION_ADMIN, NATIONAL_ADMIN
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.pagination import PageArgs, link_header, paginate

WEBHOOK_ADMINS = (NATIONAL_ADMIN, JURISDICTION_ADMIN, INTEGRATION)

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/webhooks",
    description="Endpoints of state systems that receive the platform's events, signed (Standard Webhooks), "
    "retried on a published schedule, with a delivery log (GET /deliveries) and redelivery on demand.",
)


@blp.route("")
class WebhookCollection(MethodView):
    @require(*WEBHOOK_ADMINS)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, WebhookSubscriptionPage)
    def get(self, args):
        """List your jurisdiction's webhook subscriptions (never their secrets)."""
        page = paginate(
            request_uow().session,
            repo.subscriptions(principal().tenant),
            order_by=[WebhookSubscription.created_at, WebhookSubscription.id],
            args=args,
            config=context().config,
            updated_column=WebhookSubscription.updated_at,
            change_column=WebhookSubscription.change,
        )
        return page, 200, link_header(page)

    # No Idempotency-Key: a replayable answer would keep the signing secret in plain text.
    @require(*WEBHOOK_ADMINS)
    @blp.arguments(WebhookSubscriptionSchema)
    @blp.response(201, NewWebhookSubscriptionSchema)
    def post(self, data):
        """Subscribe an https endpoint to event types; the response shows the signing secret, once."""
        row = use_cases.subscribe(data, request_uow(), principal(), context().config)
        return row, 201, {"Location": url_for(".WebhookItem", subscription_id=row.id)}


@blp.route("/<subscription_id>")
class WebhookItem(MethodView):
    @require(*WEBHOOK_ADMINS)
    @blp.response(200, WebhookSubscriptionSchema)
    def get(self, subscription_id):
        """Show a subscription: its state, and since when it has been failing."""
        return repo.subscription(request_uow().session, principal().tenant, subscription_id)

    @require(*WEBHOOK_ADMINS)
    @blp.response(204)
    def delete(self, subscription_id):
        """Stop sending to this endpoint (the delivery log keeps what was sent)."""
        use_cases.unsubscribe(subscription_id, request_uow(), principal())


@blp.route("/<subscription_id>/enable")
class WebhookEnable(MethodView):
    @require(*WEBHOOK_ADMINS)
    @blp.response(200, WebhookSubscriptionSchema)
    def post(self, subscription_id):
        """Enable again an endpoint disabled after failing for days (its address is checked again)."""
        return use_cases.enable(subscription_id, request_uow(), principal(), context().config)


@blp.route("/<subscription_id>/redeliver")
class WebhookRedeliver(MethodView):
    @require(*WEBHOOK_ADMINS)
    @blp.arguments(RedeliverySchema)
    @blp.response(202, RedeliveryResult)
    def post(self, data, subscription_id):
        """Send again every message created since a time (each with its own webhook-id, as before)."""
        return {"queued": use_cases.redeliver_since(subscription_id, data["since"], request_uow(), principal())}


@blp.route("/<subscription_id>/test")
class WebhookTest(MethodView):
    @require(*WEBHOOK_ADMINS)
    @blp.response(202, DeliverySchema)
    def post(self, subscription_id):
        """Send a test message (`notifications.webhook.tested`) to an active endpoint, signed as every message
        is and tried once; follow it in the delivery log (Location)."""
        message = use_cases.send_test(subscription_id, request_uow(), principal())
        return message, 202, {"Location": url_for("deliveries.DeliveryItem", delivery_id=message.id)}
