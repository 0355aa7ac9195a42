"""Scheduling's app factory."""

from __future__ import annotations

from flask import Flask

from services.scheduling.api import BLUEPRINTS
from services.scheduling.bootstrap import build_context
from services.scheduling.schemas.recurring import LocalDateTime
from shared.context import ServiceContext
from shared.http import api_keys, dead_letters
from shared.http.api import create_service_app


def create_app(ctx: ServiceContext | None = None) -> Flask:
    """Build the scheduling API; ``ctx`` lets tests wire their own database and broker."""
    ctx = ctx or build_context()
    app, api = create_service_app(
        ctx,
        title="Scheduling service",
        version="1.0",
        description=(
            "Training requests, host agencies and venues, cohorts and sessions, registrations and waitlists, "
            "attendance, certificates and training hours, recurring office hours, and calendar feeds."
        ),
    )
    # A local wall time has no offset, so it is no OpenAPI date-time: a string of its pattern.
    api.register_field(LocalDateTime, "string", None)
    for blueprint in (*BLUEPRINTS, api_keys.blp, dead_letters.blp):
        api.register_blueprint(blueprint)
    return app
