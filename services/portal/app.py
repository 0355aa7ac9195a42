"""``create_app(config=None)``: the portal's pages, its error pages and its static files."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, g, render_template, request, send_from_directory

from services.portal import csrf
from services.portal.backend import Backend, BackendError, Unavailable
from services.portal.config import Config
from services.portal.forms import facilitated_by
from services.portal.identity import OpenIdProvider, current_user
from services.portal.pages import (
    adaptations,
    attendance,
    certificates,
    coaching,
    cohorts,
    communities,
    notifications,
    people,
    signin,
    webhooks,
)
from services.portal.zones import zone_name
from shared.jurisdictions import jurisdictions
from shared.logging import configure_logging, get_logger

# How pages write a moment and a day ("Tue 12 Jan 2027, 9:00 AM", "Sat 5 Dec 2026"): the filters below.
MOMENT = "%a %-d %b %Y, %-I:%M %p"
DAY = "%a %-d %b %Y"
SERVICE_NAMES = {
    "content": "curriculum",
    "scheduling": "scheduling",
    "coaching": "coaching",
    "notifications": "notifications",
    "identity": "sign-in",
}


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    configure_logging(config.log_level)
    app = Flask(__name__)
    app.config.update(
        PORTAL=config,
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
    )
    backend = Backend(
        {
            "content": config.content_url,
            "scheduling": config.scheduling_url,
            "coaching": config.coaching_url,
            "notifications": config.notifications_url,
        },
        timeout=config.api_timeout,
        pool_size=config.api_pool_size,
    )
    app.extensions["backend"] = backend
    app.extensions["oidc"] = OpenIdProvider(config, backend.http) if config.oidc_issuer else None
    csrf.init_app(app)
    for blueprint in (
        signin.blp,
        people.blp,
        cohorts.blp,
        attendance.blp,
        certificates.blp,
        coaching.blp,
        adaptations.blp,
        notifications.blp,
        webhooks.blp,
        communities.blp,
    ):
        app.register_blueprint(blueprint)
    log = get_logger("portal")

    @app.context_processor
    def page_context():
        return {
            "user": getattr(g, "user", None) or current_user(),
            "development_sign_in": config.development_sign_in,
            "coaching_available": backend.has("coaching"),
            "notifications_available": backend.has("notifications"),
        }

    @app.template_filter("when")
    def when(value: str | None) -> str:
        """An ISO instant with offset as people read it: "Tue 12 Jan 2027, 9:00 AM"."""
        if not value:
            return ""
        return datetime.fromisoformat(value).strftime(MOMENT)

    @app.template_filter("day")
    def day(value: str | None) -> str:
        """An ISO instant's date, for when only the day matters: "Sat 5 Dec 2026"."""
        return datetime.fromisoformat(value).strftime(DAY) if value else ""

    @app.template_filter("in_zone")
    def in_zone(value: str | None, zone: str | None) -> str:
        """An ISO instant as read in ``zone``: "Tue 12 Jan 2027, 11:00 AM PST"; empty without a zone."""
        if not value or not zone:
            return ""
        moment = datetime.fromisoformat(value).astimezone(ZoneInfo(zone))
        return f"{moment.strftime(MOMENT)} {moment.tzname()}"

    names = {code: known.name for code, known in jurisdictions().items()}

    @app.template_filter("jurisdiction")
    def jurisdiction(code: str | None) -> str:
        """A jurisdiction by name ("California"); a Tribe, absent from the static list, by its code."""
        return names.get(code or "", code or "")

    @app.template_filter("month")
    def month(value: str | None) -> str:
        """A "YYYY-MM" month as people read it: "Dec 2026"."""
        return datetime.strptime(value, "%Y-%m").strftime("%b %Y") if value else ""

    app.add_template_filter(zone_name, "zone_name")

    @app.template_filter("clock")
    def clock(value: str | None) -> str:
        """An ISO instant's time of day as people read it: "2:30 PM"."""
        return datetime.fromisoformat(value).strftime("%-I:%M %p") if value else ""

    app.add_template_filter(facilitated_by, "facilitated_by")

    @app.template_filter("options")
    def options(items: list[dict], value: str, text: str) -> list[tuple[str, str]]:
        return [(item[value], item[text]) for item in items]

    @app.before_request
    def start_clock():
        g.started = time.perf_counter()

    @app.after_request
    def headers(response):
        response.headers["X-API-Calls"] = str(getattr(g, "api_calls", 0))
        # Where a page's time went (shown by browsers' developer tools; the bench reads it): waiting on
        # the APIs, and the whole page in the portal (the rest is the portal's own work).
        page_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        api_ms = getattr(g, "api_seconds", 0.0) * 1000
        response.headers["Server-Timing"] = f"api;dur={api_ms:.1f}, page;dur={page_ms:.1f}"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(Unavailable)
    def unavailable(error: Unavailable):
        log.warning("api unavailable", service=error.service, detail=str(error), path=request.path)
        name = SERVICE_NAMES.get(error.service, error.service)
        return render_template(
            "error.html",
            title="Service unavailable",
            message=(
                f"The {name} service could not answer just now. Nothing was changed by this page; "
                "try again in a minute."
            ),
        ), 503

    @app.errorhandler(BackendError)
    def backend_error(error: BackendError):
        if error.status == 401:
            return render_template(
                "error.html",
                title="Sign in again",
                message=("Your sign-in has expired or was not accepted. Sign in again to continue."),
                sign_in=True,
            ), 401
        titles = {403: "Not allowed", 404: "Not found", 409: "Not possible now"}
        return render_template("error.html", title=titles.get(error.status, "Not accepted"), message=error.message), (
            error.status if error.status in titles else 400
        )

    @app.errorhandler(404)
    def not_found(_error):
        return render_template("error.html", title="Not found", message="There is no page at this address."), 404

    @app.errorhandler(405)
    def not_allowed(_error):
        return render_template("error.html", title="Not allowed", message="This page cannot be used that way."), 405

    @app.errorhandler(413)
    def too_large(_error):
        return render_template("error.html", title="File too large", message="The file is larger than 4 MB."), 413

    @app.errorhandler(500)
    def failed(_error):
        return render_template(
            "error.html",
            title="Something went wrong",
            message=("The page could not be shown. Nothing was lost; try again in a minute."),
        ), 500

    @app.get("/sw.js")
    def service_worker():
        """The attendance page's service worker, served from the root so that it may control every page."""
        response = send_from_directory(app.static_folder, "sw.js", mimetype="text/javascript", max_age=0)
        response.headers["Service-Worker-Allowed"] = "/"
        return response

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
