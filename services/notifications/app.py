"""Notifications' app factory."""

from __future__ import annotations

from flask import Flask

from services.notifications.api import (
    contact_points,
    deliveries,
    delivery_reports,
    mailbox,
    preferences,
    undeliverable,
    unsubscribe,
    webhooks,
)
from services.notifications.bootstrap import build_context
from shared.context import ServiceContext
from shared.http import api_keys, dead_letters
from shared.http.api import create_service_app


def create_app(ctx: ServiceContext | None = None) -> Flask:
    """Build the notifications API; ``ctx`` lets tests wire their own database and broker."""
    ctx = ctx or build_context()
    app, api = create_service_app(
        ctx,
        title="Notifications service",
        version="1.0",
        description=(
            "Contact points and preferences of the people the platform writes to, and the delivery log of "
            "the e-mails (with calendar invites) and reminders it sends."
        ),
    )
    for blueprint in (
        contact_points.blp,
        preferences.blp,
        deliveries.blp,
        undeliverable.blp,
        delivery_reports.blp,
        webhooks.blp,
        api_keys.blp,
        dead_letters.blp,
        unsubscribe.blp,
    ):
        api.register_blueprint(blueprint)
    if ctx.config.mailbox_dir:
        app.register_blueprint(mailbox.blp)
    return app
