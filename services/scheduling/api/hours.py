"""Training hours for state registries, per participant and cohort, as JSON or CSV; self-reported training."""

from __future__ import annotations

from flask import Response, request, url_for
from flask.views import MethodView

from services.scheduling.schemas.hours import (
    SelfReportedArgs,
    SelfReportedHoursPage,
    SelfReportedHoursSchema,
    TrainingHoursArgs,
    TrainingHoursPage,
)
from services.scheduling.use_cases import hours
from shared.auth import INTEGRATION, JURISDICTION_ADMIN, NATIONAL_ADMIN, PARTICIPANT
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import link_header

blp = Blueprint(
    "hours",
    __name__,
    url_prefix="/training-hours",
    description="Training hours for state registries: verified from attendance, and self-reported.",
)

CSV = "text/csv"
NO_JURISDICTION = "No jurisdiction has the code given in `jurisdiction`."
CSV_EXAMPLE = (
    ",".join(hours.CSV_COLUMNS) + "\r\n"
    "dev-participant-ca,Ana Ruiz,'-4471,CA,5b0e…,9c1d…,18.0,1080,9,true,2026-11-24T19:00:00+00:00,"
    "verified,2026-11-24T19:05:00+00:00,,,,,active,,1834\r\n"
)


def _wants_csv(args: dict) -> bool:
    if args.get("format"):
        return args["format"] == "csv"
    return request.accept_mimetypes.best_match(["application/json", CSV], default="application/json") == CSV


@blp.route("")
class TrainingHours(MethodView):
    @require(PARTICIPANT, JURISDICTION_ADMIN, INTEGRATION, NATIONAL_ADMIN)
    @blp.arguments(TrainingHoursArgs, location="query")
    @blp.response(
        200,
        TrainingHoursPage,
        description=(
            "A page of rows, ordered by updated_at, then the row's id (with changed_after: by change, then the "
            "row's id); `Accept: text/csv` or `format=csv` returns the same page as CSV (UTF-8, RFC 4180, CRLF line "
            "ends) with a header row, the next page in the `Link` header. A text value that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is written "
            "with a leading `'`, so that a spreadsheet shows it instead of running it as a formula (CSV injection); "
            "strip that `'` if you read such values back (e.g. a registry id `-4471` arrives as `'-4471`)."
        ),
    )
    @blp.doc(responses={200: {"content": {CSV: {"schema": {"type": "string"}, "example": CSV_EXAMPLE}}}})
    @blp.alt_response(404, description=NO_JURISDICTION)
    def get(self, args):
        """List training hours per participant and cohort of your jurisdiction, with completions and registry ids.

        A participant lists their own rows only: what their registry receives.

        Rows `verified` from attendance (one per participant and cohort) and `self_reported` ones (one per
        training reported at `/training-hours/self-reported`) come in one list. Filter by date (`from`,
        `to`: session dates in each cohort's time zone; a self-reported training's completion day). A
        registry syncs incrementally with `changed_after` (docs/api.md): corrections come as rows with a
        new `change`, and rows that no longer count once as `voided` tombstones with their reason.
        """
        page = hours.training_hours_page(request_uow().session, principal(), args, context().config)
        headers = link_header(page)
        if _wants_csv(args):
            response = Response(hours.to_csv(page["items"]), mimetype=CSV)
            response.headers["Content-Disposition"] = 'attachment; filename="training-hours.csv"'
            response.headers.update(headers)
            response.vary.add("Accept")
            return response
        return page, 200, {**headers, "Vary": "Accept"}


@blp.route("/self-reported")
class SelfReportedHoursList(MethodView):
    @require(PARTICIPANT, JURISDICTION_ADMIN, INTEGRATION, NATIONAL_ADMIN)
    @blp.arguments(SelfReportedArgs, location="query")
    @blp.response(200, SelfReportedHoursPage, description="Ordered by updated_at then id.")
    @blp.alt_response(404, description=NO_JURISDICTION)
    def get(self, args):
        """List self-reported training: your own (participants), or your jurisdiction's (admins, state systems)."""
        page = hours.self_reported_page(request_uow().session, principal(), args, context().config)
        return page, 200, link_header(page)

    @idempotent
    @require(PARTICIPANT, JURISDICTION_ADMIN, INTEGRATION)
    @blp.arguments(SelfReportedHoursSchema)
    @blp.response(201, SelfReportedHoursSchema)
    def post(self, data):
        """Report training taken elsewhere: your own, or (jurisdiction admins, state systems) a participant's.

        It is exported by `/training-hours` as a `self_reported` row of your jurisdiction.
        """
        entry = hours.report_hours(data, request_uow(), principal())
        return entry, 201, {"Location": url_for(".SelfReportedHoursItem", entry_id=entry.id)}


@blp.route("/self-reported/<entry_id>")
class SelfReportedHoursItem(MethodView):
    @require(PARTICIPANT, JURISDICTION_ADMIN, INTEGRATION, NATIONAL_ADMIN)
    @blp.response(200, SelfReportedHoursSchema)
    def get(self, entry_id):
        """Show one self-reported training: your own, or one of your jurisdiction's (admins, state systems)."""
        return hours.get_self_reported(request_uow().session, entry_id, principal())
