"""Liveness, readiness (database, broker, identity provider) and metrics endpoints."""

from __future__ import annotations

from flask import Flask, Response, jsonify

from shared.context import ServiceContext
from shared.db import ping
from shared.http.problems import problem_response
from shared.metrics import exposition


def register_health(app: Flask, ctx: ServiceContext) -> None:
    """``/healthz``, ``/readyz`` (what ``ctx`` reaches, read at each request) and ``/metrics``."""

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        checks = {}
        try:
            ping(ctx.db.engine)
            checks["database"] = "ok"
        except Exception as exc:  # any driver error means "not ready", whatever its class
            checks["database"] = f"unavailable: {type(exc).__name__}"
        if ctx.broker_check is not None:
            try:
                ctx.broker_check()
                checks["broker"] = "ok"
            except Exception as exc:
                checks["broker"] = f"unavailable: {type(exc).__name__}"
        # Tokens whose keys are cached keep working while the identity provider is away (and API keys
        # do not need it), so like the broker its outage is reported without taking the API out.
        checks["identity_provider"] = ctx.verifier.provider_status()
        if checks["database"] != "ok":
            return problem_response(503, "Service Unavailable", "The database is unreachable.", checks=checks)
        # The API keeps working while the broker is away (events wait in the outbox), so a broker
        # outage is reported, not a reason to take the API out of service.
        status = "ready" if all(v == "ok" for v in checks.values()) else "degraded"
        return jsonify(status=status, checks=checks)

    @app.get("/metrics")
    def metrics():
        payload, media_type = exposition()
        return Response(payload, mimetype=media_type)
