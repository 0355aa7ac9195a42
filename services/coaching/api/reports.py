"""Reports for states (JSON and CSV), national roll-ups that respect consent, the reach cascade, consent."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView

from services.coaching.api import page_of
from services.coaching.schemas.reports import (
    ActivityRowArgs,
    ActivityRowPage,
    ConsentChangeSchema,
    ConsentSchema,
    FormatArgs,
    NationalReachSchema,
    NationalSummarySchema,
    ReachSchema,
    SummarySchema,
)
from services.coaching.use_cases import reports as use_cases
from shared.auth import COACH, INTEGRATION, JURISDICTION_ADMIN, NATIONAL_ADMIN, SPECIALIST
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.pagination import link_header

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="",
    description="Reports for states and the nation, the reach of the cascade, and consent to national roll-ups.",
)

CSV = "text/csv"
CSV_DOC = {"content": {CSV: {"schema": {"type": "string"}}}}


def _wants_csv(args: dict) -> bool:
    if args.get("format"):
        return args["format"] == "csv"
    return request.accept_mimetypes.best_match(["application/json", CSV], default="application/json") == CSV


def _csv(text: str, filename: str, headers: dict | None = None) -> Response:
    response = Response(text, mimetype=CSV)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers.update(headers or {})
    response.vary.add("Accept")
    return response


def today():
    return context().extra["clock"]().date()


@blp.route("/reports/summary")
class JurisdictionReport(MethodView):
    @require(JURISDICTION_ADMIN, INTEGRATION, SPECIALIST, COACH)
    @blp.arguments(FormatArgs, location="query")
    @blp.response(200, SummarySchema)
    @blp.doc(responses={200: CSV_DOC})
    def get(self, args):
        """Your jurisdiction's figures: activities and hours by kind, hours by month, commitments by status, fidelity."""
        session, tenant = request_uow().session, principal().tenant
        if _wants_csv(args):
            return _csv(use_cases.jurisdiction_summary_csv(session, tenant, today()), "summary.csv")
        return use_cases.jurisdiction_summary(session, tenant, today()), 200, {"Vary": "Accept"}


@blp.route("/reports/activities")
class ActivityRows(MethodView):
    @require(JURISDICTION_ADMIN, INTEGRATION)
    @blp.arguments(ActivityRowArgs, location="query")
    @blp.response(200, ActivityRowPage)
    @blp.doc(responses={200: CSV_DOC})
    def get(self, args):
        """Your jurisdiction's logged activities, without notes, for state systems: sync with changed_after."""
        listing = use_cases.activity_rows(principal().tenant)
        page = page_of(listing, args)
        headers = link_header(page)
        if _wants_csv(args):
            return _csv(listing.as_csv(page["items"]), "activities.csv", headers)
        return page, 200, {**headers, "Vary": "Accept"}


@blp.route("/reports/national")
class NationalReport(MethodView):
    @require(NATIONAL_ADMIN)
    @blp.arguments(FormatArgs, location="query")
    @blp.response(200, NationalSummarySchema)
    @blp.doc(responses={200: CSV_DOC})
    def get(self, args):
        """Every jurisdiction's figures, or `withheld` where its admin has not consented to national roll-ups."""
        session = request_uow().session
        if _wants_csv(args):
            return _csv(use_cases.national_summary_csv(session, today()), "national.csv")
        return use_cases.national_summary(session, today()), 200, {"Vary": "Accept"}


@blp.route("/reach")
class Reach(MethodView):
    @require(JURISDICTION_ADMIN, INTEGRATION, SPECIALIST, COACH)
    @blp.response(200, ReachSchema)
    def get(self):
        """Your jurisdiction's cascade: per training-for-trainers cohort, trainings delivered and people reached."""
        return use_cases.jurisdiction_reach(context().db, principal().tenant)


@blp.route("/reach/national")
class NationalReach(MethodView):
    @require(NATIONAL_ADMIN)
    @blp.response(200, NationalReachSchema)
    def get(self):
        """The national cascade: consenting jurisdictions' figures; the others named as withheld."""
        return use_cases.national_reach(context().db)


@blp.route("/consent")
class Consent(MethodView):
    @require(JURISDICTION_ADMIN)
    @blp.response(200, ConsentSchema)
    def get(self):
        """Whether your jurisdiction's records enter national roll-ups, and every change of it."""
        return use_cases.consent_of(request_uow().session, principal().tenant)

    @require(JURISDICTION_ADMIN)
    @blp.arguments(ConsentChangeSchema)
    @blp.response(200, ConsentSchema)
    def put(self, data):
        """Grant or withdraw consent to national roll-ups (recorded with who and when)."""
        return use_cases.set_consent(data["national_roll_ups"], request_uow(), principal())
