"""Coaching's app factory."""

from __future__ import annotations

from flask import Flask

from services.coaching.api import activities, fidelity, plans, reports, specialists
from services.coaching.bootstrap import build_context
from shared.context import ServiceContext
from shared.http import api_keys, dead_letters
from shared.http.api import create_service_app


def create_app(ctx: ServiceContext | None = None) -> Flask:
    """Build the coaching API; ``ctx`` lets tests wire their own database, broker and clock."""
    ctx = ctx or build_context()
    app, api = create_service_app(
        ctx,
        title="Coaching service",
        version="1.0",
        description=(
            "What follows the training for trainers: implementation plans and commitments to deliver, "
            "support activities with confidential notes, fidelity observations, caseloads, reports and reach."
        ),
    )
    for blueprint in (
        plans.blp,
        activities.blp,
        fidelity.blp,
        reports.blp,
        specialists.blp,
        api_keys.blp,
        dead_letters.blp,
    ):
        api.register_blueprint(blueprint)
    return app
