"""Content's app factory."""

from __future__ import annotations

from flask import Flask

from services.content.api import adaptations, communities, curriculum, materials
from services.content.bootstrap import build_context
from shared.context import ServiceContext
from shared.http import api_keys, dead_letters
from shared.http.api import create_service_app


def create_app(ctx: ServiceContext | None = None) -> Flask:
    """Build the content API; ``ctx`` lets tests wire their own database and broker."""
    ctx = ctx or build_context()
    app, api = create_service_app(
        ctx,
        title="Content service",
        version="1.0",
        description=(
            "The Relationship-Based Care for Infants and Toddlers curriculum: series, the nine sessions, "
            "the six PITC practices, materials with immutable versions, and adaptations with fidelity review; "
            "and the learning communities of state, territory and Tribe teams, with their published syntheses."
        ),
    )
    for blueprint in (
        curriculum.blp,
        materials.blp,
        adaptations.blp,
        communities.blp,
        communities.published,
        api_keys.blp,
        dead_letters.blp,
    ):
        api.register_blueprint(blueprint)
    return app
